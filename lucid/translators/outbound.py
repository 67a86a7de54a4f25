"""LDS, source side: the outbound listener and proxyless api listeners. Placeholder."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.listener.v3 import listener_pb2

from lucid.translators.node import OUTBOUND_LISTENER, Node
from lucid.translators.state import MeshState


def outbound_listener(state: MeshState, node: Node) -> listener_pb2.Listener:
    return listener_pb2.Listener(name=OUTBOUND_LISTENER)


def proxyless_listeners(state: MeshState, node: Node) -> Sequence[listener_pb2.Listener]:
    return []
