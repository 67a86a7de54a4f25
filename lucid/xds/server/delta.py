"""Incremental (delta) xDS on one stream (ADS or one type): the protocol rules.

Per type the session remembers what the client subscribed to and which version of each
resource the client has (`known`), seeded from `initial_resource_versions` when a client
reconnects, so it only sends what the client lacks:

- Subscribe and unsubscribe are applied whatever the nonce: a stale nonce only means the
  request does not ACK or NACK the latest response.
- An empty first subscription to LDS/CDS is a wildcard (legacy), and stays one when
  names are added; `*` subscribes to the wildcard and unsubscribing `*` leaves it.
  Unsubscribing a name that the wildcard still covers makes the server tell the client
  its state again, as the protocol asks.
- Resources the client has that are gone, and subscribed names that do not exist, are
  listed in `removed_resources`; a missing name stays subscribed and is sent when it
  appears.
- A NACK is recorded; the rejected versions count as sent, so they are not sent again
  until the resource changes.
- ADS make-before-break: additions and updates go out in ADS order first; removals of
  clusters, endpoints and secrets (which routes and listeners may still name) go out
  afterwards, in removal order.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from envoy.service.discovery.v3 import discovery_pb2

from lucid.xds.cache import Entry, digest
from lucid.xds.cache.wire import delta_response
from lucid.xds.resources import (
    CLUSTER,
    ENDPOINT,
    REMOVAL_ORDER,
    SECRET,
    WILDCARD,
    WILDCARD_TYPES,
    TypeUrl,
    order_of,
)
from lucid.xds.server.session import Session
from lucid.xds.server.status import subscription_label

log = logging.getLogger(__name__)

MAX_PENDING = 32  # unacknowledged responses remembered per type
# Removed last, after the listeners and routes that may still name them have moved on.
BREAK_LATE: frozenset[TypeUrl] = frozenset({CLUSTER, ENDPOINT, SECRET})


@dataclass
class Pending:
    version: str
    stamp: float | None
    sent: dict[str, Entry]
    removed: tuple[str, ...]


@dataclass
class DeltaType:
    requested: bool = False
    wildcard: bool = False
    subscribed: set[str] = field(default_factory=set)
    known: dict[str, str] = field(default_factory=dict)  # name → version the client has
    told_missing: set[str] = field(default_factory=set)
    sent: dict[str, Entry] = field(default_factory=dict)
    acked: dict[str, Entry] = field(default_factory=dict)
    pending: OrderedDict[str, Pending] = field(default_factory=OrderedDict)
    force: bool = False


class DeltaSession(Session):
    transport = "delta"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.types: dict[TypeUrl, DeltaType] = {}
        self._opened = time.monotonic()

    def wants(self, type_url: TypeUrl) -> bool:
        state = self.types.get(type_url)
        return state is not None and state.requested

    # -- requests -------------------------------------------------------------------------------

    def handle(self, request: discovery_pb2.DeltaDiscoveryRequest) -> None:
        self.check_node(request.node, request.HasField("node"))
        type_url = self.type_of(request.type_url)
        subscribe, unsubscribe = (
            request.resource_names_subscribe,
            request.resource_names_unsubscribe,
        )
        initial = request.initial_resource_versions
        self.check_names(subscribe, what="resource_names_subscribe")
        self.check_names(unsubscribe, what="resource_names_unsubscribe")
        self.check_names(initial, what="initial_resource_versions")
        state = self.types.setdefault(type_url, DeltaType())
        if request.response_nonce:
            pending = state.pending.get(request.response_nonce)
            if pending is not None:
                self._ack_or_nack(type_url, state, request, pending)
        changed = False
        if not state.requested:
            state.requested = changed = state.force = True
            state.wildcard = type_url in WILDCARD_TYPES and not subscribe
            state.known.update((n, v) for n, v in initial.items() if n != WILDCARD)
        changed |= self._subscribe(type_url, state, subscribe, unsubscribe)
        self.check_subscribed(len(state.subscribed))
        if self.stream is not None:
            self.stream.type(type_url).subscription = subscription_label(
                state.wildcard, state.subscribed
            )
        if changed:
            self.mark(type_url)

    def _subscribe(
        self, type_url: TypeUrl, state: DeltaType, subscribe: Any, unsubscribe: Any
    ) -> bool:
        changed = False
        for name in subscribe:
            changed = True
            if name == WILDCARD:
                state.wildcard = True
                continue
            state.subscribed.add(name)
            state.told_missing.discard(name)  # asked again: answer again
        view = self.snapshot.view(type_url)
        for name in unsubscribe:
            changed = True
            if name == WILDCARD:
                state.wildcard = False
                for known in [n for n in state.known if n not in state.subscribed]:
                    self._forget(state, known)
                continue
            state.subscribed.discard(name)
            state.told_missing.discard(name)
            if state.wildcard and name in view.entries:
                state.known[name] = ""  # still covered by the wildcard: send it again
            else:
                self._forget(state, name)
        return changed

    @staticmethod
    def _forget(state: DeltaType, name: str) -> None:
        state.known.pop(name, None)
        state.sent.pop(name, None)
        state.acked.pop(name, None)

    def _ack_or_nack(
        self,
        type_url: TypeUrl,
        state: DeltaType,
        request: discovery_pb2.DeltaDiscoveryRequest,
        pending: Pending,
    ) -> None:
        assert self.stream is not None
        while state.pending:  # this response and every older one are settled
            nonce, _ = state.pending.popitem(last=False)
            if nonce == request.response_nonce:
                break
        if request.HasField("error_detail"):
            detail = request.error_detail
            error = self.error_text(detail.message or f"rejected with code {detail.code}")
            log.warning(
                "node %s rejected %s (delta %s): %s",
                self.stream.node.id,
                type_url,
                pending.version,
                error,
            )
            self.registry.rejected(self.stream, type_url, version=pending.version, error=error)
            return
        state.acked.update(pending.sent)
        for name in pending.removed:
            state.acked.pop(name, None)
        self.registry.accepted(
            self.stream,
            type_url,
            version=pending.version,
            entries=state.acked,
            stamp=pending.stamp,
        )

    # -- responses ------------------------------------------------------------------------------

    def respond(self, dirty: set[TypeUrl]) -> None:
        late: list[TypeUrl] = []
        for type_url in sorted(dirty, key=lambda t: (order_of(t), t)):
            state = self.types.get(type_url)
            if state is None or not state.requested:
                continue
            split = self.fixed_type is None and type_url in BREAK_LATE
            self._send(type_url, state, removals=not split)
            if split:
                late.append(type_url)
        for type_url in sorted(late, key=REMOVAL_ORDER.index):
            self._send(type_url, self.types[type_url], updates=False)

    def _send(
        self, type_url: TypeUrl, state: DeltaType, *, updates: bool = True, removals: bool = True
    ) -> None:
        assert self.stream is not None
        view = self.snapshot.view(type_url).entries
        send: dict[str, Entry] = {}
        removed: list[str] = []
        if updates:
            for name, entry in view.items():
                if (state.wildcard or name in state.subscribed) and state.known.get(
                    name
                ) != entry.version:
                    send[name] = entry
            removed.extend(
                n
                for n in sorted(state.subscribed)
                if n not in view and n not in state.known and n not in state.told_missing
            )
        if removals:
            removed.extend(n for n in sorted(state.known) if n not in view)
        if not send and not removed and not state.force:
            return
        state.force = False
        for name, entry in send.items():
            state.known[name] = entry.version
            state.sent[name] = entry
            state.told_missing.discard(name)
        for name in removed:
            state.known.pop(name, None)
            state.sent.pop(name, None)
            if name in state.subscribed:
                state.told_missing.add(name)
        version = digest(sorted(state.known.items()))
        nonce = self.next_nonce()
        payload = delta_response(
            type_url=type_url,
            system_version=version,
            nonce=nonce,
            entries=send.values(),
            removed=removed,
            control_plane=self.control_plane,
        )
        stamp = self.snapshot.stamp
        state.pending[nonce] = Pending(
            version,
            stamp if stamp is not None and stamp >= self._opened else None,
            send,
            tuple(removed),
        )
        while len(state.pending) > MAX_PENDING:
            state.pending.popitem(last=False)
        self.registry.sent(
            self.stream,
            type_url,
            version=version,
            nonce=nonce,
            entries=state.sent,  # live: the status always shows what the client has
            size=len(payload),
        )
        self.emit(type_url, payload)
