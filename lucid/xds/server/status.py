"""Per-proxy status: what each stream was sent, what it ACKed, and what it rejected.

Sessions report here; the REST API (`GET /v1/proxies`), `lucid config-dump`, CSDS and the
metrics read from here; hooks turn ACKs and NACKs into events. A stream's status lives
exactly as long as the stream. `sent` and `acked` hold the interned entries themselves,
so a config dump shows the bytes the proxy got, at no extra memory cost.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

from lucid.translators.node import Node
from lucid.xds.cache import Entry
from lucid.xds.resources import SHORT_NAMES, TypeUrl, order_of

Transport = Literal["sotw", "delta"]
_NOTHING: Mapping[str, Entry] = MappingProxyType({})


@dataclass
class Nack:
    version: str  # the version the proxy rejected
    error: str
    at: float


@dataclass
class TypeStatus:
    type_url: TypeUrl
    subscription: str = ""  # "*", "*+3" or "3 names": what the proxy asked for
    sent: Mapping[str, Entry] = field(default_factory=lambda: _NOTHING)
    sent_version: str = ""
    sent_at: float | None = None
    nonce: str = ""
    acked: Mapping[str, Entry] = field(default_factory=lambda: _NOTHING)
    acked_version: str = ""
    acked_at: float | None = None
    nack: Nack | None = None

    @property
    def short(self) -> str:
        return SHORT_NAMES.get(self.type_url, self.type_url.rsplit(".", 1)[-1])


@dataclass
class StreamStatus:
    id: int
    node: Node
    transport: Transport
    api: str  # "ADS", or the one type of a per-type stream ("CDS", ...)
    peer: str
    connected_at: float = field(default_factory=time.time)
    types: dict[TypeUrl, TypeStatus] = field(default_factory=dict)

    def type(self, type_url: TypeUrl) -> TypeStatus:
        found = self.types.get(type_url)
        if found is None:
            found = self.types[type_url] = TypeStatus(type_url)
        return found

    def ordered_types(self) -> list[TypeStatus]:
        return sorted(self.types.values(), key=lambda t: (order_of(t.type_url), t.type_url))


class StatusHook(Protocol):
    """Told about stream lifecycle and ACK/NACKs (metrics, the event stream)."""

    def connected(self, stream: StreamStatus) -> None: ...

    def disconnected(self, stream: StreamStatus) -> None: ...

    def sent(self, stream: StreamStatus, type_url: TypeUrl, size: int) -> None: ...

    def accepted(
        self, stream: StreamStatus, type_url: TypeUrl, version: str, stamp: float | None
    ) -> None: ...

    def rejected(
        self, stream: StreamStatus, type_url: TypeUrl, version: str, error: str
    ) -> None: ...


class ProxyRegistry:
    """Every live stream's status, and the hooks to tell about changes."""

    def __init__(self, hooks: Sequence[StatusHook] = ()) -> None:
        self.hooks: list[StatusHook] = list(hooks)
        self._streams: dict[int, StreamStatus] = {}
        self._ids = itertools.count(1)

    def open(self, node: Node, transport: Transport, api: str, peer: str) -> StreamStatus:
        stream = StreamStatus(next(self._ids), node, transport, api, peer)
        self._streams[stream.id] = stream
        for hook in self.hooks:
            hook.connected(stream)
        return stream

    def close(self, stream: StreamStatus) -> None:
        if self._streams.pop(stream.id, None) is not None:
            for hook in self.hooks:
                hook.disconnected(stream)

    def streams(self) -> list[StreamStatus]:
        return sorted(self._streams.values(), key=lambda s: (s.node.id, s.id))

    def of_node(self, node_id: str) -> list[StreamStatus]:
        return [s for s in self.streams() if s.node.id == node_id]

    # -- reports from sessions ---------------------------------------------------------------

    def sent(
        self,
        stream: StreamStatus,
        type_url: TypeUrl,
        *,
        version: str,
        nonce: str,
        entries: Mapping[str, Entry],
        size: int,
    ) -> None:
        status = stream.type(type_url)
        status.sent, status.sent_version, status.nonce = entries, version, nonce
        status.sent_at = time.time()
        for hook in self.hooks:
            hook.sent(stream, type_url, size)

    def accepted(
        self,
        stream: StreamStatus,
        type_url: TypeUrl,
        *,
        version: str,
        entries: Mapping[str, Entry],
        stamp: float | None,
    ) -> None:
        status = stream.type(type_url)
        status.acked, status.acked_version, status.acked_at = entries, version, time.time()
        status.nack = None
        for hook in self.hooks:
            hook.accepted(stream, type_url, version, stamp)

    def rejected(
        self, stream: StreamStatus, type_url: TypeUrl, *, version: str, error: str
    ) -> None:
        status = stream.type(type_url)
        status.nack = Nack(version, error, time.time())
        for hook in self.hooks:
            hook.rejected(stream, type_url, version, error)


def subscription_label(wildcard: bool, names: Collection[str]) -> str:
    count = len(names)
    if wildcard:
        return "*" if not count else f"*+{count}"
    return f"{count} name" + ("" if count == 1 else "s")


ResourceState = Literal["ACKED", "NACKED", "SENT"]


def resource_states(status: TypeStatus) -> list[tuple[str, Entry, ResourceState]]:
    """Each resource last sent for one type: ACKED if the proxy accepted this very entry,
    NACKED if a rejection came after it was sent, else SENT (awaiting an answer)."""
    out: list[tuple[str, Entry, ResourceState]] = []
    for name, entry in sorted(status.sent.items()):
        if status.acked.get(name) is entry:
            state: ResourceState = "ACKED"
        elif status.nack is not None:
            state = "NACKED"
        else:
            state = "SENT"
        out.append((name, entry, state))
    return out
