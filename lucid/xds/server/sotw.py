"""State-of-the-world xDS on one stream (ADS or one type): the protocol rules.

Per type the session remembers the subscription, the last nonce, and what it last sent:

- Only the newest nonce counts: a request echoing an older nonce is ignored entirely
  (the client will send another for the newest response). The first request echoing the
  newest nonce ACKs or NACKs it; later ones (Envoy re-subscribing EDS after a CDS
  change) only change names.
- Empty `resource_names` is a wildcard only on the first LDS/CDS request of the stream
  ("legacy wildcard"), and stays one while the client keeps sending empty lists; once it
  has named resources, an empty list means none, and only `*` asks for everything.
- A response is sent on the first request of a type, and after that only when what the
  client should have differs from what it was last sent, whether because the snapshot
  changed or because the names changed inside an ACK. An ACK alone gets no response.
- A NACK is recorded with its error; what was sent stays the reference, so the rejected
  version is not sent again until the configuration changes.
- ADS make-before-break: a CDS push that drops clusters first sends the new set together
  with the dropped ones, then EDS, LDS and RDS (so routes move off those clusters), and
  only then the final CDS without them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from envoy.service.discovery.v3 import discovery_pb2

from lucid.xds.cache import Entry, TypeView, empty_view, view_version
from lucid.xds.cache.wire import control_plane_field, sotw_finish
from lucid.xds.resources import CLUSTER, WILDCARD, WILDCARD_TYPES, TypeUrl, order_of
from lucid.xds.server.session import Session
from lucid.xds.server.status import subscription_label

log = logging.getLogger(__name__)

_NOTHING: Mapping[str, Entry] = MappingProxyType({})


@dataclass
class SotwType:
    requested: bool = False
    legacy: bool = False  # first request was empty: still a legacy wildcard
    wildcard: bool = False
    names: frozenset[str] = frozenset()
    nonce: str = ""
    answered: str = ""  # the nonce the client last ACKed or NACKed
    sent: Mapping[str, Entry] = field(default_factory=lambda: _NOTHING)
    sent_version: str | None = None
    stamp: float | None = None  # when the change behind the last response was first seen
    force: bool = False  # answer the next round even if nothing changed


class SotwSession(Session):
    transport = "sotw"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.types: dict[TypeUrl, SotwType] = {}
        self._opened = time.monotonic()
        self.control_plane_field = control_plane_field(self.control_plane)

    def wants(self, type_url: TypeUrl) -> bool:
        state = self.types.get(type_url)
        return state is not None and state.requested

    # -- requests -------------------------------------------------------------------------------

    def handle(self, request: discovery_pb2.DiscoveryRequest) -> None:
        has_node = request.HasField("node")  # Envoy sends it on the first request only
        if has_node or self.node is None:
            self.check_node(request.node, has_node)
        type_url = self.type_of(request.type_url)
        names = request.resource_names
        # The count now; lengths only of a list that differs from the subscription (an
        # ACK repeats the names it was checked with).
        self.check_names(names, what="resource_names", lengths=False)
        state = self.types.get(type_url)
        if state is None:
            state = self.types[type_url] = SotwType()
        nonce = request.response_nonce
        if nonce:
            if nonce != state.nonce:
                log.debug("stream %s: stale nonce %s for %s ignored", self._id(), nonce, type_url)
                return
            if nonce != state.answered:  # later requests echoing it only change names
                state.answered = nonce
                self._ack_or_nack(type_url, state, request)
        first = not state.requested
        wanted = frozenset(names)
        if wanted != state.names:
            self.check_lengths(wanted, what="resource_names")
        changed = self._subscribe(type_url, state, wanted, first=first)
        if not nonce:  # a first request (or a client starting over): always answer
            state.force = True
        if changed or state.force:
            self.mark(type_url)

    def _subscribe(
        self, type_url: TypeUrl, state: SotwType, names: frozenset[str], *, first: bool
    ) -> bool:
        before = (state.wildcard, state.names)
        if first:
            state.requested = True
            state.legacy = type_url in WILDCARD_TYPES and not names
        if state.legacy and not names:
            state.wildcard, state.names = True, frozenset()
        else:
            state.legacy = False
            state.wildcard, state.names = WILDCARD in names, names - {WILDCARD}
        changed = first or (state.wildcard, state.names) != before
        if changed and self.stream is not None:
            self.stream.type(type_url).subscription = subscription_label(
                state.wildcard, state.names
            )
        return changed

    def _ack_or_nack(
        self, type_url: TypeUrl, state: SotwType, request: discovery_pb2.DiscoveryRequest
    ) -> None:
        assert self.stream is not None
        version = state.sent_version or ""
        if request.HasField("error_detail"):
            detail = request.error_detail
            error = self.error_text(detail.message or f"rejected with code {detail.code}")
            log.warning(
                "node %s rejected %s version %s: %s", self.stream.node.id, type_url, version, error
            )
            self.registry.rejected(self.stream, type_url, version=version, error=error)
        else:
            self.registry.accepted(
                self.stream, type_url, version=version, entries=state.sent, stamp=state.stamp
            )
        state.stamp = None

    # -- responses ------------------------------------------------------------------------------

    def _desired(self, type_url: TypeUrl, state: SotwType) -> TypeView:
        view = self.snapshot.view(type_url)
        if state.wildcard:
            return view
        if not state.names:
            return empty_view(type_url)
        return view.subset(state.names)

    def respond(self, dirty: set[TypeUrl]) -> None:
        breaks: list[tuple[TypeUrl, TypeView]] = []
        for type_url in sorted(dirty, key=lambda t: (order_of(t), t)):
            state = self.types.get(type_url)
            if state is None or not state.requested:
                continue
            view = self._desired(type_url, state)
            entries = view.entries
            gone = (
                state.sent.keys() - entries.keys()
                if self.fixed_type is None and type_url == CLUSTER and state.sent
                else None
            )
            if gone:  # make before break: keep the dropped clusters for now
                dropped = {n: state.sent[n] for n in gone}
                union = dict(sorted({**entries, **dropped}.items()))
                self._send(
                    type_url,
                    state,
                    TypeView(type_url, MappingProxyType(union), view_version(union)),
                )
                breaks.append((type_url, view))
            else:
                self._send(type_url, state, view)
        for type_url, view in breaks:
            self._send(type_url, self.types[type_url], view)

    def _send(self, type_url: TypeUrl, state: SotwType, view: TypeView) -> None:
        assert self.stream is not None
        entries, version = view.entries, view.version
        if not state.force and version == state.sent_version:
            return
        if not entries and state.sent_version is None and not state.wildcard:
            state.force = False  # nothing named exists yet: answer when something does
            return
        state.force = False
        nonce = self.next_nonce()
        payload = sotw_finish(view.sotw_prefix, nonce, self.control_plane_field)
        stamp = self.snapshot.stamp
        state.nonce, state.sent, state.sent_version = nonce, entries, version
        state.stamp = stamp if stamp is not None and stamp >= self._opened else None
        self.registry.sent(
            self.stream, type_url, version=version, nonce=nonce, entries=entries, size=len(payload)
        )
        self.emit(type_url, payload)

    def _id(self) -> str:
        return str(self.stream.id) if self.stream else "?"
