"""LDS, source side: the sidecar's outbound listener and proxyless gRPC api listeners.

The outbound listener (`lucid-outbound`) is where the local app sends every call to
another service: `127.0.0.1:<outboundPort>`, plain HTTP (HTTP/1.1 or h2c, codec AUTO),
one HTTP connection manager that takes its routes from RDS `routes-out`
(`routes.py`) over ADS. Its access logs and tracing follow the source sidecar's
`monitoring`; its connection idle timeout is the sidecar's `routing.timeout.idle` when
written. The stateful-session filter is added only when some reachable destination asks
for sticky sessions; it does nothing until a route enables it.

A proxyless gRPC client (`node.metadata.proxyless`) has no listener of its own: it dials
`xds:///<service>` and asks LDS for a Listener named exactly `<service>`. It gets one
`api_listener` per reachable destination, whose HTTP connection manager holds the route
configuration inline (one virtual host, domain the service name) and only what gRPC
implements: the typed router filter, no access log, tracing or stateful session, and the
proxyless flavour of the routes (`route_actions.py`). Clusters and endpoints are the
shared ones (EDS, one weighted locality).
"""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import address_pb2, base_pb2
from envoy.config.listener.v3 import api_listener_pb2, listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_pb2

from lucid.models.sidecar import SidecarConfiguration
from lucid.translators.hcm import (
    http_connection_manager,
    http_connection_manager_filter,
    monitoring_key,
)
from lucid.translators.messages import pack
from lucid.translators.node import OUTBOUND_LISTENER, OUTBOUND_ROUTES, Node
from lucid.translators.route_policies import stateful_session_filter
from lucid.translators.routes import destinations, needs_stateful_session
from lucid.translators.sources import index_of, source
from lucid.translators.state import MeshState
from lucid.translators.virtual_hosts import virtual_host

LOOPBACK = "127.0.0.1"
OUTBOUND_STAT_PREFIX = "outbound"


def outbound_listener(state: MeshState, node: Node) -> listener_pb2.Listener:
    """`lucid-outbound` on 127.0.0.1:outboundPort, routed by `routes-out`; one message
    shared by every node with the same port, idle timeout, sticky-session need and
    monitoring (the route configuration it names is each node's own)."""
    sidecar = state.sidecar_of_service(node.service)
    timeouts = sidecar.routing.timeout if sidecar is not None else None
    idle = timeouts.idle if timeouts is not None and "idle" in timeouts.model_fields_set else None
    sticky = needs_stateful_session(state, node.service)
    key = (node.outbound_port, idle, sticky, monitoring_key(sidecar, node.service))
    cache = index_of(state).listeners
    found = cache.get(key)
    if found is None:
        found = cache[key] = _outbound_listener(sidecar, node, idle, sticky)
    return found


def _outbound_listener(
    sidecar: SidecarConfiguration | None, node: Node, idle: int | None, sticky: bool
) -> listener_pb2.Listener:
    manager = http_connection_manager(
        stat_prefix=OUTBOUND_STAT_PREFIX,
        http_filters=[stateful_session_filter()] if sticky else [],
        sidecar=sidecar,
        service=node.service,
        route_config_name=OUTBOUND_ROUTES,
        idle_timeout_ms=idle,
    )
    return listener_pb2.Listener(
        name=OUTBOUND_LISTENER,
        address=address_pb2.Address(
            socket_address=address_pb2.SocketAddress(
                address=LOOPBACK, port_value=node.outbound_port
            )
        ),
        filter_chains=[
            listener_components_pb2.FilterChain(filters=[http_connection_manager_filter(manager)])
        ],
        traffic_direction=base_pb2.OUTBOUND,
    )


def proxyless_listeners(state: MeshState, node: Node) -> Sequence[listener_pb2.Listener]:
    """One `api_listener` per reachable destination, named after it (gRPC `xds:///name`)."""
    src = source(state, node.service)
    listeners = []
    for destination in destinations(state, node.service):
        table = route_pb2.RouteConfiguration(
            name=destination,
            virtual_hosts=[virtual_host(state, src, destination, proxyless=True)],
        )
        manager = http_connection_manager(
            stat_prefix=destination,
            http_filters=[],
            sidecar=None,
            service=node.service,
            route_config=table,
        )
        manager.ClearField("access_log")
        manager.ClearField("tracing")
        listeners.append(
            listener_pb2.Listener(
                name=destination,
                api_listener=api_listener_pb2.ApiListener(api_listener=pack(manager)),
            )
        )
    return listeners
