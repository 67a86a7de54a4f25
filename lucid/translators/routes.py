"""RDS for the source side (outbound and edge route configurations). Placeholder: being written."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.route.v3 import route_pb2

from lucid.translators.node import Node
from lucid.translators.state import MeshState


def destinations(state: MeshState, service: str) -> tuple[str, ...]:
    """The services a node of `service` can reach, sorted."""
    return tuple(sorted(state.services))


def route_configurations(state: MeshState, node: Node) -> Sequence[route_pb2.RouteConfiguration]:
    return []
