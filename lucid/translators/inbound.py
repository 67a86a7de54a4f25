"""LDS/RDS/CDS, destination side: inbound and edge listeners, local clusters. Placeholder."""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2

from lucid.translators.node import Node
from lucid.translators.state import MeshState


def inbound_listener(state: MeshState, node: Node) -> listener_pb2.Listener | None:
    return None


def edge_listener(state: MeshState, node: Node) -> listener_pb2.Listener | None:
    return None


def inbound_route_configuration(
    state: MeshState, node: Node
) -> route_pb2.RouteConfiguration | None:
    return None


def local_clusters(state: MeshState, node: Node) -> Sequence[cluster_pb2.Cluster]:
    return []
