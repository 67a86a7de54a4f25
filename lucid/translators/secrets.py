"""SDS: the node's identity certificate and the mesh trust bundle. Placeholder."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

from lucid.translators.node import Node
from lucid.translators.state import MeshState


def secrets(state: MeshState, node: Node) -> Sequence[secret_pb2.Secret]:
    return []
