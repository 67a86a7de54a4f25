"""Helpers for the source-side tests (outbound routes, listeners, proxyless listeners):
translate one node and pick virtual hosts and routes out of the result by name."""

from __future__ import annotations

from typing import Any

from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from google.protobuf import any_pb2

from lucid.translators.node import Node
from lucid.translators.routes import route_configurations
from lucid.translators.state import MeshState


def node(service: str, **fields: Any) -> Node:
    return Node(id=f"{service}-1", service=service, **fields)


def outbound_routes(state: MeshState, service: str) -> route_pb2.RouteConfiguration:
    """The `routes-out` route configuration."""
    return route_configurations(state, node(service))[0]


def vhost(config: route_pb2.RouteConfiguration, name: str) -> route_components_pb2.VirtualHost:
    (found,) = [v for v in config.virtual_hosts if v.name == name]
    return found


def routes_to(state: MeshState, source: str, destination: str) -> list[route_components_pb2.Route]:
    """The routes of the virtual host of `destination` in `source`'s outbound routes."""
    return list(vhost(outbound_routes(state, source), destination).routes)


def unpack_hcm(packed: any_pb2.Any) -> hcm_pb2.HttpConnectionManager:
    manager = hcm_pb2.HttpConnectionManager()
    assert packed.Unpack(manager)
    return manager
