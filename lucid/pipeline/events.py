"""ACKs and NACKs as `config.accepted` / `config.rejected` events in the event stream.

A push to a thousand proxies yields a thousand ACKs per type within milliseconds, so
events are not written one by one from the stream that received them: they are queued
and written in one store batch every `flush_interval`, in a worker thread. Within one
interval, ACKs of the same stream and type collapse into the latest; rejections are
never collapsed or dropped. If the store falls far behind, ACK events beyond
`max_pending` are dropped (counted, and logged) rather than growing without bound.

`source` is the proxy's serviceId (else its service name); `tags` carry the node id,
service name, plane and cluster, so subscriptions can filter on them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from lucid.models.messaging import ServiceEvent
from lucid.store import Store, StoreError, Write
from lucid.xds.resources import SHORT_NAMES, TypeUrl
from lucid.xds.server.status import StreamStatus

log = logging.getLogger(__name__)

COLLECTION = "event_stream"
ACCEPTED = "config.accepted"
REJECTED = "config.rejected"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def config_event(
    event_type: str, stream: StreamStatus, type_url: TypeUrl, data: dict[str, Any]
) -> Write:
    node = stream.node
    now = datetime.now(UTC)
    tags = {"nodeId": node.id, "serviceName": node.service}
    if node.plane:
        tags["plane"] = node.plane
    if node.cluster:
        tags["cluster"] = node.cluster
    event = ServiceEvent(
        eventId=str(uuid.uuid4()),
        eventType=event_type,
        source=node.service_id or node.service,
        timestamp=now,
        data={
            "nodeId": node.id,
            "serviceName": node.service,
            "typeUrl": type_url,
            "type": SHORT_NAMES.get(type_url, type_url),
            "transport": stream.transport,
            **data,
        },
        tags=tags,
    )
    document = event.model_dump(mode="json", exclude_none=True)
    document["timestamp"] = _stamp(now)
    return Write("create", COLLECTION, event.eventId, document)


class ConfigEvents:
    """A `StatusHook` that batches events into the store; also a component (run/stop)."""

    name = "xds-events"

    def __init__(
        self, store: Store, *, flush_interval: float = 0.25, max_pending: int = 10_000
    ) -> None:
        self.store = store
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.dropped = 0
        self._accepted: dict[tuple[int, TypeUrl], Write] = {}
        self._rejected: list[Write] = []
        self._wake = asyncio.Event()
        self._stopping = False

    # StatusHook

    def connected(self, stream: StreamStatus) -> None:
        """Connections are not events; only configuration outcomes are."""

    def disconnected(self, stream: StreamStatus) -> None:
        """Connections are not events; only configuration outcomes are."""

    def sent(self, stream: StreamStatus, type_url: TypeUrl, size: int) -> None:
        """Sending is not an event; the proxy's answer is."""

    def accepted(
        self, stream: StreamStatus, type_url: TypeUrl, version: str, stamp: float | None
    ) -> None:
        key = (stream.id, type_url)
        if key not in self._accepted and len(self._accepted) >= self.max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "%d config.accepted event(s) dropped: the store is behind", self.dropped
                )
            return
        self._accepted[key] = config_event(ACCEPTED, stream, type_url, {"version": version})
        self._wake.set()

    def rejected(self, stream: StreamStatus, type_url: TypeUrl, version: str, error: str) -> None:
        data = {"version": version, "error": error}
        self._rejected.append(config_event(REJECTED, stream, type_url, data))
        self._wake.set()

    # component

    async def run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            if not self._stopping:
                await asyncio.sleep(self.flush_interval)
            self._wake.clear()
            await self.flush()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def flush(self) -> None:
        writes = [*self._rejected, *self._accepted.values()]
        self._rejected, self._accepted = [], {}
        if not writes:
            return
        try:
            await asyncio.to_thread(self.store.write, writes=writes)
        except StoreError as exc:
            log.warning("could not write %d config event(s): %s", len(writes), exc)
