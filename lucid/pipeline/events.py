"""ACKs and NACKs as `config.accepted` / `config.rejected` events in the event stream.

A push to a thousand proxies yields a thousand ACKs per type within milliseconds, so
events are not written one by one from the stream that received them: they are queued
and written in one store batch every `flush_interval` (1 s), in a worker thread, as
plain documents of the spec's ServiceEvent shape. Within one interval, ACKs of the same
stream and type collapse into the latest; rejections are never collapsed or dropped. If
the store falls far behind, ACK events beyond `max_pending` are dropped (counted, and
logged) rather than growing without bound.

`source` is the proxy's serviceId (else its service name); `tags` carry the node id,
service name, plane and cluster, so subscriptions can filter on them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lucid.store import Store, StoreError, Write
from lucid.translators.node import Node
from lucid.xds.resources import SHORT_NAMES, TypeUrl
from lucid.xds.server.status import StreamStatus

log = logging.getLogger(__name__)

COLLECTION = "event_stream"
ACCEPTED = "config.accepted"
REJECTED = "config.rejected"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Outcome:
    """One ACK or NACK, kept as plain data until the flush turns it into an event."""

    event_type: str
    node: Node
    transport: str
    type_url: TypeUrl
    version: str
    error: str | None
    at: datetime


def config_event(outcome: Outcome) -> Write:
    """The ServiceEvent document of one outcome. Built as a plain dict, not through the
    model: every field is ours and valid by construction, and a push to thousands of
    proxies would otherwise spend its time validating events."""
    node = outcome.node
    tags = {"nodeId": node.id, "serviceName": node.service}
    if node.plane:
        tags["plane"] = node.plane
    if node.cluster:
        tags["cluster"] = node.cluster
    data: dict[str, Any] = {
        "nodeId": node.id,
        "serviceName": node.service,
        "typeUrl": outcome.type_url,
        "type": SHORT_NAMES.get(outcome.type_url, outcome.type_url),
        "transport": outcome.transport,
        "version": outcome.version,
    }
    if outcome.error is not None:
        data["error"] = outcome.error
    event_id = str(uuid.uuid4())
    document = {
        "eventId": event_id,
        "eventType": outcome.event_type,
        "source": node.service_id or node.service,
        "timestamp": _stamp(outcome.at),
        "data": data,
        "version": "1.0",
        "tags": tags,
    }
    return Write("create", COLLECTION, event_id, document)


MAX_REJECTIONS = 10


def rejected_status(
    collection: str, key: str, document: dict[str, Any], rejections: list[Outcome]
) -> Write:
    """The policy document with the proxies' rejections in its `status` (newest first, at
    most MAX_REJECTIONS). Re-applying the policy replaces the document and so clears it."""
    status = document.get("status")
    earlier = status.get("rejections", []) if isinstance(status, dict) else []
    newest = [
        {
            "node": o.node.id,
            "type": SHORT_NAMES.get(o.type_url, o.type_url),
            "version": o.version,
            "error": o.error,
            "at": _stamp(o.at),
        }
        for o in reversed(rejections)
    ]
    updated = {
        **document,
        "status": {"config": "rejected", "rejections": (newest + earlier)[:MAX_REJECTIONS]},
    }
    return Write("put", collection, key, updated)


class ConfigEvents:
    """A `StatusHook` that batches events into the store; also a component (run/stop)."""

    name = "xds-events"

    def __init__(
        self,
        store: Store,
        *,
        flush_interval: float = 1.0,
        max_pending: int = 100_000,
        blame: Callable[[Node], Sequence[tuple[str, str]]] | None = None,
    ) -> None:
        self.store = store
        # Which policy documents a node's rejected configuration came from (the pipeline
        # knows); each gets the rejection in its `status`, for `lucid get` to show.
        self.blame = blame
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.dropped = 0
        # ACKs as they come (stream, type, version, when), made Outcomes at the flush:
        # a push to thousands of proxies brings thousands within milliseconds.
        self._accepted: dict[tuple[int, TypeUrl], tuple[StreamStatus, TypeUrl, str, float]] = {}
        self._rejected: list[Outcome] = []
        self._blamed: dict[tuple[str, str], list[Outcome]] = {}
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
        self._accepted[key] = (stream, type_url, version, time.time())
        self._wake.set()

    def rejected(self, stream: StreamStatus, type_url: TypeUrl, version: str, error: str) -> None:
        outcome = Outcome(
            REJECTED, stream.node, stream.transport, type_url, version, error, datetime.now(UTC)
        )
        self._rejected.append(outcome)
        if self.blame is not None:
            for document in self.blame(stream.node):
                self._blamed.setdefault(document, []).append(outcome)
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

    def _write(self, outcomes: list[Outcome], blamed: dict[tuple[str, str], list[Outcome]]) -> None:
        writes = [config_event(o) for o in outcomes]
        for (collection, key), rejections in sorted(blamed.items()):
            record = self.store.get(collection=collection, key=key)
            if record is not None:
                writes.append(rejected_status(collection, key, record.document, rejections))
        self.store.write(writes=writes)

    async def flush(self) -> None:
        outcomes = [
            *self._rejected,
            *(
                Outcome(
                    ACCEPTED,
                    stream.node,
                    stream.transport,
                    type_url,
                    version,
                    None,
                    datetime.fromtimestamp(at, UTC),
                )
                for stream, type_url, version, at in self._accepted.values()
            ),
        ]
        blamed = self._blamed
        self._rejected, self._accepted, self._blamed = [], {}, {}
        if not outcomes:
            return
        try:
            await asyncio.to_thread(self._write, outcomes, blamed)
        except StoreError as exc:
            log.warning("could not write %d config event(s): %s", len(outcomes), exc)
