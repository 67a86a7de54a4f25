"""The unary `Fetch*` calls of the per-type discovery services: one request, one answer.

A fetch carries what the first request of a state-of-the-world stream would: the node and,
for the named types, the resource names. The answer is what that stream would be sent
first: the node's current view of the type, versioned as a push is; every resource for
CDS and LDS when no name is given, and for any type with `*`. A node the control plane has
not seen is translated as for a new stream, and the call waits (within its deadline) while
its first snapshot is pending. A fetch opens no stream, so `proxy-status` does not list it
and no ACK is expected; its errors are the streams' (`ProtocolError`).
"""

from __future__ import annotations

import asyncio

from envoy.service.discovery.v3 import discovery_pb2

from lucid.errors import ValidationFailed
from lucid.translators.node import Node
from lucid.xds.cache import ConfigWatcher, Snapshot, TypeView, empty_view
from lucid.xds.cache.wire import sotw_response
from lucid.xds.nodes import node_from_proto
from lucid.xds.resources import SECRET, SHORT_NAMES, WILDCARD, WILDCARD_TYPES, TypeUrl
from lucid.xds.server.options import XdsOptions
from lucid.xds.server.session import (
    ProtocolError,
    check_names,
    is_loopback_peer,
    warn_plaintext_secrets,
)


async def fetch(
    request: discovery_pb2.DiscoveryRequest,
    *,
    type_url: TypeUrl,
    watcher: ConfigWatcher,
    options: XdsOptions,
    peer: str,
    control_plane: bytes = b"",
) -> bytes:
    """The serialized DiscoveryResponse answering one fetch of `type_url`."""
    if request.type_url and request.type_url != type_url:
        raise ProtocolError(
            "invalid", f"type_url {request.type_url!r} on a {SHORT_NAMES[type_url]} fetch"
        )
    if not request.HasField("node"):
        raise ProtocolError("invalid", "a fetch must carry its node")
    try:
        node = node_from_proto(request.node)
    except ValidationFailed as exc:
        raise ProtocolError("invalid", exc.describe()) from exc
    check_names(options, request.resource_names, what="resource_names")
    names = frozenset(request.resource_names)
    view = _chosen((await _ready(watcher, node)).view(type_url), names)
    if type_url == SECRET and view.entries and not is_loopback_peer(peer):
        warn_plaintext_secrets(peer, node.id)
    return sotw_response(
        type_url=type_url,
        version=view.version,
        nonce="",
        entries=view.entries.values(),
        control_plane=control_plane,
    )


def _chosen(view: TypeView, names: frozenset[str]) -> TypeView:
    if WILDCARD in names or (not names and view.type_url in WILDCARD_TYPES):
        return view
    if not names:
        return empty_view(view.type_url)
    return view.subset(names)


async def _ready(watcher: ConfigWatcher, node: Node) -> Snapshot:
    """The node's snapshot, once it has one (a new node waits for its translation)."""
    arrived: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()

    def wake(snapshot: Snapshot, _changed: frozenset[TypeUrl]) -> None:
        if snapshot.ready and not arrived.done():
            arrived.set_result(snapshot)

    watch = watcher.watch(node, wake)
    try:
        current = watch.snapshot
        return current if current.ready else await arrived
    finally:
        watch.cancel()
