"""What every xDS stream has in common, whatever its flavour (SotW or delta, ADS or not).

A session is the per-stream state object the thin gRPC servicers hand each request to.
It learns the node from the first request, watches that node's snapshot, checks type URLs
and name limits, numbers nonces, and collects outgoing responses. Requests and snapshot
changes only mark types dirty and set `ready`; `drain()` then builds what to send, so a
burst of changes before the stream gets to write costs one response per type. The
subclasses hold the protocol rules (`sotw.py`, `delta.py`). No gRPC in here: errors are
`ProtocolError`s, which the servicer maps to status codes.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Collection
from typing import Literal

from envoy.config.core.v3 import base_pb2

from lucid.errors import ValidationFailed
from lucid.translators.node import Node
from lucid.xds.cache import EMPTY_SNAPSHOT, ConfigWatcher, Snapshot, Watch
from lucid.xds.nodes import node_from_proto
from lucid.xds.resources import ADS_ORDER, SECRET, SHORT_NAMES, TypeUrl
from lucid.xds.server.options import XdsOptions
from lucid.xds.server.status import ProxyRegistry, StreamStatus, Transport

log = logging.getLogger(__name__)

Reason = Literal["invalid", "limit"]
KNOWN_TYPES: frozenset[TypeUrl] = frozenset(ADS_ORDER)


class ProtocolError(Exception):
    """The client broke the protocol or a limit; its stream ends with this message."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def is_loopback_peer(peer: str) -> bool:
    """Whether a gRPC peer string (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `unix:...`)
    is on this machine."""
    if peer.startswith("unix:"):
        return True
    if peer.startswith("ipv4:"):
        return peer[5:].startswith("127.")
    if peer.startswith("ipv6:"):
        host = peer[5:].rsplit(":", 1)[0].strip("[]")
        return host in ("::1", "0:0:0:0:0:0:0:1") or host.startswith("::ffff:127.")
    return False


def warn_plaintext_secrets(peer: str, node_id: str) -> None:
    """Secrets are about to leave this machine over the plaintext xDS channel: say so."""
    log.warning(
        "SERVING SECRETS IN PLAINTEXT to %s (node %s): the xDS channel is not "
        "encrypted; keep xDS on loopback or put it behind mTLS",
        peer,
        node_id,
    )


def check_names(
    options: XdsOptions, names: Collection[str], *, what: str, lengths: bool = True
) -> None:
    """Refuse too many names, or (unless not `lengths`) a name that is too long."""
    if len(names) > options.max_names_per_request:
        raise ProtocolError(
            "limit",
            f"{what} lists {len(names)} names; at most {options.max_names_per_request} per request",
        )
    if lengths:
        check_lengths(options, names, what=what)


def check_lengths(options: XdsOptions, names: Collection[str], *, what: str) -> None:
    limit = options.max_name_length
    if names and max(map(len, names)) > limit:
        raise ProtocolError("limit", f"{what}: a resource name is over {limit} chars")


class Session(ABC):
    transport: Transport

    def __init__(
        self,
        *,
        watcher: ConfigWatcher,
        registry: ProxyRegistry,
        options: XdsOptions,
        peer: str,
        fixed_type: TypeUrl | None = None,
        control_plane: bytes = b"",
    ) -> None:
        self.watcher = watcher
        self.registry = registry
        self.options = options
        self.peer = peer
        self.fixed_type = fixed_type
        self.control_plane = control_plane
        self.ready = asyncio.Event()
        self.node: Node | None = None
        self.stream: StreamStatus | None = None
        self.snapshot: Snapshot = EMPTY_SNAPSHOT
        self._watch: Watch | None = None
        self._outbox: list[bytes] = []
        self._dirty: set[TypeUrl] = set()
        self._nonces = 0
        self._warned_secrets = False

    # -- lifecycle ------------------------------------------------------------------------------

    def _start(self, message: base_pb2.Node | None) -> None:
        try:
            node = node_from_proto(message)
        except ValidationFailed as exc:
            raise ProtocolError("invalid", exc.describe()) from exc
        self.node = node
        api = "ADS" if self.fixed_type is None else SHORT_NAMES[self.fixed_type]
        self.stream = self.registry.open(node, self.transport, api, self.peer)
        log.info(
            "xDS stream %d opened: node %s (service %s), %s %s from %s",
            self.stream.id,
            node.id,
            node.service,
            self.transport,
            api,
            self.peer,
        )
        self._watch = self.watcher.watch(node, self.on_change)
        self.snapshot = self._watch.snapshot

    def check_node(self, message: base_pb2.Node, has_node: bool) -> None:
        if self.node is None:
            self._start(message if has_node else None)
        elif has_node and message.id and message.id != self.node.id:
            raise ProtocolError(
                "invalid", f"node.id changed from {self.node.id!r} to {message.id!r} mid-stream"
            )

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self.stream is not None:
            log.info("xDS stream %d closed: node %s", self.stream.id, self.stream.node.id)
            self.registry.close(self.stream)

    # -- checks ---------------------------------------------------------------------------------

    def type_of(self, type_url: str) -> TypeUrl:
        if self.fixed_type is not None:
            if type_url and type_url != self.fixed_type:
                raise ProtocolError(
                    "invalid", f"type_url {type_url!r} on a {SHORT_NAMES[self.fixed_type]} stream"
                )
            return self.fixed_type
        if not type_url:
            raise ProtocolError("invalid", "type_url is required on an aggregated stream")
        if type_url not in KNOWN_TYPES:
            shown = type_url if len(type_url) <= 200 else type_url[:200] + "..."
            raise ProtocolError("invalid", f"unknown type_url {shown!r}")
        return TypeUrl(type_url)

    def check_names(self, names: Collection[str], *, what: str, lengths: bool = True) -> None:
        check_names(self.options, names, what=what, lengths=lengths)

    def check_lengths(self, names: Collection[str], *, what: str) -> None:
        check_lengths(self.options, names, what=what)

    def check_subscribed(self, count: int) -> None:
        if count > self.options.max_subscribed:
            raise ProtocolError(
                "limit", f"{count} names subscribed; at most {self.options.max_subscribed}"
            )

    def error_text(self, message: str) -> str:
        limit = self.options.max_error_detail
        return message if len(message) <= limit else message[:limit] + "..."

    # -- output ---------------------------------------------------------------------------------

    def next_nonce(self) -> str:
        self._nonces += 1
        return str(self._nonces)

    def mark(self, type_url: TypeUrl) -> None:
        self._dirty.add(type_url)
        self.ready.set()

    def emit(self, type_url: TypeUrl, message: bytes) -> None:
        if type_url == SECRET and not self._warned_secrets and not is_loopback_peer(self.peer):
            self._warned_secrets = True
            warn_plaintext_secrets(self.peer, self.node.id if self.node else "?")
        self._outbox.append(message)

    def on_change(self, snapshot: Snapshot, changed: frozenset[TypeUrl]) -> None:
        """The watch's wake callback: remember the snapshot, mark the changed types."""
        self.snapshot = snapshot
        for type_url in changed:
            if self.wants(type_url):
                self._dirty.add(type_url)
        if self._dirty:
            self.ready.set()

    def drain(self) -> list[bytes]:
        """Responses to write now, in order (none while the snapshot is pending)."""
        if self._dirty and self.snapshot.ready:
            dirty, self._dirty = self._dirty, set()
            self.respond(dirty)
        out, self._outbox = self._outbox, []
        return out

    # -- for subclasses -------------------------------------------------------------------------

    @abstractmethod
    def wants(self, type_url: TypeUrl) -> bool:
        """Whether the client has asked for this type on this stream."""

    @abstractmethod
    def respond(self, dirty: set[TypeUrl]) -> None:
        """Emit the responses the dirty types need, in the protocol's order."""
