"""LDS/RDS/CDS, destination side: the inbound and edge listeners, and the local clusters.

The inbound listener (`lucid-inbound`, 0.0.0.0:inboundPort) is where a service enforces
what others may do to it, before anything reaches the local app on 127.0.0.1:appPort:

| spec                                  | Envoy, in filter order                             |
|---------------------------------------|----------------------------------------------------|
| resources.limits.connections          | `envoy.filters.network.connection_limit`; and      |
|                                       | max_connections on the local app cluster           |
| sidecar security.mTLS                 | DownstreamTlsContext, client certificate required, |
|                                       | certificates from SDS (`lucid-identity/-trust`)    |
| jwt settings of security rules        | `jwt_authn` (`jwt.py`): 401                        |
| security / traffic / auth policies,   | RBAC DENY then ALLOW filters (`rbac.py`, order and |
| plane isolation, api-key              | fallback in `access.py`), configured by `routes-in`|
|                                       | (`access_per_route`): 403                          |
| rate-limit policies                   | `local_ratelimit`, per route (`ratelimit.py`): 429 |
| monitoring                            | access log and tracing (`hcm.py`)                  |

The edge listener of a gateway (`lucid-edge`, 0.0.0.0:edgePort) faces external clients:
the same HTTP filters, but no mTLS and no connection limit; callers are anonymous there
(no rule naming sources applies, no plane isolation, and the sidecar's
`security.authentication` block is an inbound matter), and its routes come from the
gateway's routing table (`EDGE_ROUTES`), built elsewhere.

RBAC and local_ratelimit are in every inbound and edge listener, and what they enforce
comes with the routes: a policy change updates `routes-in` (or `routes-edge`), not the
listener, whose update would drain its connections (jwt_authn's requirement rules still
live in the listener, so a policy requiring a JWT moves it).

api-key is checked by the RBAC filter (the `apiKeys` header against its keys), not by
`envoy.filters.http.api_key_auth`: Envoy 1.40 accepts that filter but marks it
work-in-progress and outside its threat model, and it can only be scoped per route,
not per caller and priority as the rules require.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from envoy.config.cluster.v3 import circuit_breaker_pb2, cluster_pb2
from envoy.config.core.v3 import address_pb2, base_pb2, protocol_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.network.connection_limit.v3 import connection_limit_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from google.protobuf import any_pb2, wrappers_pb2

from lucid.models.sidecar import SidecarConfiguration
from lucid.translators import hcm
from lucid.translators.access import Access, access, mtls_enabled
from lucid.translators.clusters import HTTP_PROTOCOL_OPTIONS, duration_ms
from lucid.translators.jwt import jwks_clusters, jwt_filter
from lucid.translators.messages import pack
from lucid.translators.mtls import TLS_TRANSPORT_SOCKET, sds_tls_context
from lucid.translators.node import (
    EDGE_LISTENER,
    EDGE_ROUTES,
    INBOUND_LISTENER,
    INBOUND_ROUTES,
    Node,
    local_app_cluster_name,
)
from lucid.translators.ratelimit import (
    app_route,
    policy_routes,
    policy_routes_key,
    rate_limit_filter,
)
from lucid.translators.rbac import (
    LISTENER_RBAC_FILTERS,
    Caller,
    rbac_configs,
    rbac_per_route,
)
from lucid.translators.route_policies import stateful_session_filter
from lucid.translators.state import MeshState

CONNECTION_LIMIT_FILTER: Final = "envoy.filters.network.connection_limit"
LOCAL_APP_ADDRESS: Final = "127.0.0.1"
LOCAL_CONNECT_TIMEOUT_MS: Final = 1_000


def _address(host: str, port: int) -> address_pb2.Address:
    return address_pb2.Address(
        socket_address=address_pb2.SocketAddress(address=host, port_value=port)
    )


def connection_limit(state: MeshState, service: str) -> int | None:
    """`resources.limits.connections` of the service's sidecar, when it has limits."""
    sidecar = state.sidecar_of_service(service)
    limits = sidecar.resources.limits if sidecar and sidecar.resources else None
    return limits.connections if limits is not None else None


def _caller(state: MeshState, node: Node, *, edge: bool) -> Caller:
    if edge:
        assert node.edge_port is not None
        return Caller(mode="external", ports=frozenset({node.edge_port}))
    service = state.service(node.service)
    planes = frozenset({node.plane}) if node.plane else (service.planes if service else frozenset())
    ports = frozenset(p for p in (node.inbound_port, node.app_port) if p is not None)
    if mtls_enabled(state, node.service):
        return Caller(mode="mtls", ports=ports, planes=planes)
    return Caller(mode="header", ports=ports, planes=planes)


def http_filters(jwt: hcm_pb2.HttpFilter | None) -> list[hcm_pb2.HttpFilter]:
    """jwt_authn (when a provider targets the service), RBAC (deny, allow) and
    local_ratelimit: the destination-side HTTP filters.

    RBAC and local_ratelimit are always there, and what they enforce comes with the
    routes (`access_per_route`, `ratelimit.py`): a security, traffic or rate-limit policy
    changes a route configuration, not the listener, whose update would drain every
    connection to it."""
    return [*([jwt] if jwt is not None else []), *LISTENER_RBAC_FILTERS, rate_limit_filter()]


def _access_key(rules: Access, caller: Caller) -> tuple[Hashable, ...]:
    """What jwt_authn and RBAC are built from."""
    return (rules.rules, rules.default_allow, rules.enabled, rules.providers, caller)


def _jwt(
    state: MeshState, rules: Access, caller: Caller
) -> tuple[hcm_pb2.HttpFilter | None, bytes]:
    """The jwt_authn filter and its bytes (what listeners are told apart by), once per
    distinct input."""
    key = ("jwt filter", *_access_key(rules, caller))
    found = state._memo.get(key)
    if found is None:
        jwt = jwt_filter(rules, caller)
        serialized = jwt.SerializeToString(deterministic=True) if jwt is not None else b""
        found = state._memo[key] = (jwt, serialized)
    assert isinstance(found, tuple)
    return found


def access_per_route(state: MeshState, node: Node, *, edge: bool) -> Mapping[str, any_pb2.Any]:
    """What the RBAC filters of the node's inbound (or, with `edge`, edge) listener
    enforce: the per-filter configuration of that listener's virtual hosts. Services with
    the same rules, seen from the same kind of caller, share it."""
    caller = _caller(state, node, edge=edge)
    rules = access(state, node.service, inbound=not edge)
    key = ("access per route", *_access_key(rules, caller))
    found = state._memo.get(key)
    if found is None:
        found = state._memo[key] = MappingProxyType(
            rbac_per_route(rbac_configs(state, rules, caller))
        )
    assert isinstance(found, MappingProxyType)
    return found


def _listener(
    name: str,
    port: int,
    manager: hcm_pb2.HttpConnectionManager,
    network_filters: Sequence[listener_components_pb2.Filter] = (),
) -> listener_pb2.Listener:
    return listener_pb2.Listener(
        name=name,
        address=_address("0.0.0.0", port),
        filter_chains=[
            listener_components_pb2.FilterChain(
                filters=[*network_filters, hcm.http_connection_manager_filter(manager)]
            )
        ],
    )


def inbound_listener(state: MeshState, node: Node) -> listener_pb2.Listener | None:
    """`lucid-inbound` on 0.0.0.0:inboundPort, to the local app; None without both ports.

    One message for every node whose inputs below agree: the route configuration it
    names, `routes-in`, is each node's own."""
    if node.app_port is None or node.inbound_port is None:
        return None
    caller = _caller(state, node, edge=False)
    jwt, jwt_bytes = _jwt(state, access(state, node.service, inbound=True), caller)
    sidecar = state.sidecar_of_service(node.service)
    limit = connection_limit(state, node.service)
    key = (
        "inbound listener",
        node.inbound_port,
        caller.mode,
        jwt_bytes,
        limit,
        hcm.monitoring_key(sidecar, node.service),
    )
    found = state._memo.get(key)
    if found is None:
        found = state._memo[key] = _inbound_listener(
            node.inbound_port, caller, http_filters(jwt), limit, sidecar, node.service
        )
    assert isinstance(found, listener_pb2.Listener)
    return found


def _inbound_listener(
    port: int,
    caller: Caller,
    filters: list[hcm_pb2.HttpFilter],
    limit: int | None,
    sidecar: SidecarConfiguration | None,
    service: str,
) -> listener_pb2.Listener:
    manager = hcm.http_connection_manager(
        stat_prefix="inbound",
        http_filters=filters,
        sidecar=sidecar,
        service=service,
        route_config_name=INBOUND_ROUTES,
    )
    network: list[listener_components_pb2.Filter] = []
    if limit is not None:
        config = connection_limit_pb2.ConnectionLimit(
            stat_prefix="inbound_connections",
            max_connections=wrappers_pb2.UInt64Value(value=limit),
        )
        network.append(
            listener_components_pb2.Filter(name=CONNECTION_LIMIT_FILTER, typed_config=pack(config))
        )
    if caller.mode == "mtls":
        # The app sees who called in x-forwarded-client-cert (URI SAN only).
        manager.forward_client_cert_details = hcm_pb2.HttpConnectionManager.SANITIZE_SET
        manager.set_current_client_cert_details.uri = True
    listener = _listener(INBOUND_LISTENER, port, manager, network)
    listener.traffic_direction = base_pb2.INBOUND
    if caller.mode == "mtls":
        context = tls_pb2.DownstreamTlsContext(
            common_tls_context=sds_tls_context(),
            require_client_certificate=wrappers_pb2.BoolValue(value=True),
        )
        context.common_tls_context.alpn_protocols.extend(["h2", "http/1.1"])
        listener.filter_chains[0].transport_socket.CopyFrom(
            base_pb2.TransportSocket(name=TLS_TRANSPORT_SOCKET, typed_config=pack(context))
        )
    return listener


def edge_listener(state: MeshState, node: Node) -> listener_pb2.Listener | None:
    """`lucid-edge` on 0.0.0.0:edgePort for gateways (external clients; RDS edge routes).

    Its routes are the gateway's routing table, whose routes to a destination with sticky
    sessions turn the stateful-session filter on: the filter is always there (it does
    nothing for a route that does not)."""
    if node.edge_port is None:
        return None
    caller = _caller(state, node, edge=True)
    jwt, _ = _jwt(state, access(state, node.service, inbound=False), caller)
    manager = hcm.http_connection_manager(
        stat_prefix="edge",
        http_filters=[*http_filters(jwt), stateful_session_filter()],
        sidecar=state.sidecar_of_service(node.service),
        service=node.service,
        route_config_name=EDGE_ROUTES,
    )
    listener = _listener(EDGE_LISTENER, node.edge_port, manager)
    listener.traffic_direction = base_pb2.INBOUND
    return listener


def inbound_route_configuration(
    state: MeshState, node: Node
) -> route_pb2.RouteConfiguration | None:
    """`routes-in`: policy routes (rate limits, redirects), then the local app, with what
    the RBAC filters enforce. One message per distinct policy routes (`policy_routes_key`)
    and access rules."""
    if node.app_port is None or node.inbound_port is None:
        return None
    cluster = local_app_cluster_name(node.app_port)
    enforced = access_per_route(state, node, edge=False)
    # `enforced` lives in the same memo as this entry, so its id names it for good.
    key = ("inbound routes", policy_routes_key(state, node.service, cluster), id(enforced))
    found = state._memo.get(key)
    if found is None:
        routes = list(policy_routes(state, node.service, cluster))
        routes.append(app_route("app", rc.RouteMatch(prefix="/"), cluster))
        host = rc.VirtualHost(name="inbound", domains=["*"], routes=routes)
        for name, config in enforced.items():
            host.typed_per_filter_config[name].CopyFrom(config)
        found = state._memo[key] = route_pb2.RouteConfiguration(
            name=INBOUND_ROUTES,
            virtual_hosts=[host],
            validate_clusters=wrappers_pb2.BoolValue(value=False),
        )
    assert isinstance(found, route_pb2.RouteConfiguration)
    return found


def local_app_cluster(state: MeshState, node: Node) -> cluster_pb2.Cluster | None:
    """`inbound|<appPort>`: STATIC 127.0.0.1:appPort, HTTP/2 for grpc services.

    It depends on nothing but the port, the protocol and the connection limit, so services
    that agree on those share one message (built, checked and serialized once)."""
    if node.app_port is None or node.inbound_port is None:
        return None
    service = state.service(node.service)
    grpc = service is not None and service.primary.protocol in ("grpc", "grpcs")
    limit = connection_limit(state, node.service)
    key = ("local app cluster", node.app_port, grpc, limit)
    found = state._memo.get(key)
    if found is None:
        found = state._memo[key] = _local_app_cluster(node.app_port, grpc, limit)
    assert isinstance(found, cluster_pb2.Cluster)
    return found


def _local_app_cluster(app_port: int, grpc: bool, limit: int | None) -> cluster_pb2.Cluster:
    name = local_app_cluster_name(app_port)
    cluster = cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.STATIC,
        connect_timeout=duration_ms(LOCAL_CONNECT_TIMEOUT_MS),
        load_assignment=endpoint_pb2.ClusterLoadAssignment(
            cluster_name=name,
            endpoints=[
                endpoint_components_pb2.LocalityLbEndpoints(
                    lb_endpoints=[
                        endpoint_components_pb2.LbEndpoint(
                            endpoint=endpoint_components_pb2.Endpoint(
                                address=_address(LOCAL_APP_ADDRESS, app_port)
                            )
                        )
                    ]
                )
            ],
        ),
    )
    options = http_protocol_options_pb2.HttpProtocolOptions()
    if grpc:
        options.explicit_http_config.http2_protocol_options.CopyFrom(
            protocol_pb2.Http2ProtocolOptions()
        )
    else:
        options.explicit_http_config.http_protocol_options.CopyFrom(
            protocol_pb2.Http1ProtocolOptions()
        )
    cluster.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].CopyFrom(pack(options))
    if limit is not None:
        cluster.circuit_breakers.thresholds.append(
            circuit_breaker_pb2.CircuitBreakers.Thresholds(
                max_connections=wrappers_pb2.UInt32Value(value=min(limit, 2**32 - 1))
            )
        )
    return cluster


def local_clusters(state: MeshState, node: Node) -> Sequence[cluster_pb2.Cluster]:
    """The local app cluster, remote JWKS clusters, and the tracing collector's cluster."""
    found: dict[str, cluster_pb2.Cluster] = {}
    app = local_app_cluster(state, node)
    if app is not None:
        found[app.name] = app
    if node.inbound_port is not None or node.edge_port is not None:
        for cluster in jwks_clusters(access(state, node.service)):
            found[cluster.name] = cluster
    for cluster in hcm.tracing_clusters(state.sidecar_of_service(node.service)):
        found[cluster.name] = cluster
    return [found[name] for name in sorted(found)]
