"""The inbound and edge listeners, the inbound route configuration and the local clusters,
checked field by field on the generated protobuf."""

from __future__ import annotations

import dataclasses

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.filters.network.connection_limit.v3 import connection_limit_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

from lucid.translators import inbound
from lucid.translators.clusters import HTTP_PROTOCOL_OPTIONS
from lucid.translators.node import (
    EDGE_LISTENER,
    EDGE_ROUTES,
    IDENTITY_SECRET,
    INBOUND_LISTENER,
    INBOUND_ROUTES,
    TRUST_SECRET,
)
from lucid.translators.route_policies import STATEFUL_SESSION_FILTER
from tests.builders import endpoint, instance, sidecar_for
from tests.unit.translators.every_destination_feature import NODE, every_feature


def unpack(any_message, message_type):
    result = message_type()
    assert any_message.Unpack(result)
    return result


def manager_of(listener: listener_pb2.Listener) -> hcm_pb2.HttpConnectionManager:
    return unpack(listener.filter_chains[0].filters[-1].typed_config, hcm_pb2.HttpConnectionManager)


def test_no_inbound_listener_without_an_app_port_or_an_inbound_port(mesh):
    state = every_feature(mesh)

    for node in (
        dataclasses.replace(NODE, app_port=None),
        dataclasses.replace(NODE, inbound_port=None),
    ):
        assert inbound.inbound_listener(state, node) is None
        assert inbound.inbound_route_configuration(state, node) is None
    assert inbound.edge_listener(state, dataclasses.replace(NODE, edge_port=None)) is None


def test_the_inbound_listener_binds_every_address_and_uses_its_rds_route(mesh):
    listener = inbound.inbound_listener(every_feature(mesh), NODE)

    address = listener.address.socket_address
    assert (listener.name, address.address, address.port_value) == (
        INBOUND_LISTENER,
        "0.0.0.0",
        15006,
    )
    assert manager_of(listener).rds.route_config_name == INBOUND_ROUTES
    assert manager_of(listener).rds.config_source.HasField("ads")


def test_mtls_requires_a_client_certificate_from_sds(mesh):
    listener = inbound.inbound_listener(every_feature(mesh), NODE)

    context = unpack(
        listener.filter_chains[0].transport_socket.typed_config, tls_pb2.DownstreamTlsContext
    )
    assert context.require_client_certificate.value is True
    common = context.common_tls_context
    assert [s.name for s in common.tls_certificate_sds_secret_configs] == [IDENTITY_SECRET]
    assert common.validation_context_sds_secret_config.name == TRUST_SECRET
    assert common.validation_context_sds_secret_config.sds_config.HasField("ads")
    assert not common.tls_certificates  # never inline
    manager = manager_of(listener)
    assert manager.forward_client_cert_details == hcm_pb2.HttpConnectionManager.SANITIZE_SET


def test_without_mtls_the_inbound_listener_is_plain_http(mesh):
    listener = inbound.inbound_listener(every_feature(mesh, mtls=False), NODE)

    assert not listener.filter_chains[0].HasField("transport_socket")


def test_the_edge_listener_faces_external_clients_without_tls_and_with_edge_routes(mesh):
    listener = inbound.edge_listener(every_feature(mesh), NODE)

    assert (listener.name, listener.address.socket_address.port_value) == (EDGE_LISTENER, 15443)
    assert not listener.filter_chains[0].HasField("transport_socket")
    assert manager_of(listener).rds.route_config_name == EDGE_ROUTES
    names = [f.name for f in manager_of(listener).http_filters]
    assert names[0] == "envoy.filters.http.jwt_authn" and names[-1] == "envoy.filters.http.router"


def test_the_connection_limit_guards_the_listener_and_the_local_app(mesh):
    state = every_feature(mesh)
    listener = inbound.inbound_listener(state, NODE)

    first = listener.filter_chains[0].filters[0]
    assert first.name == "envoy.filters.network.connection_limit"
    limit = unpack(first.typed_config, connection_limit_pb2.ConnectionLimit)
    assert limit.max_connections.value == 1000
    (app,) = [c for c in inbound.local_clusters(state, NODE) if c.name == "inbound|8080"]
    assert app.circuit_breakers.thresholds[0].max_connections.value == 1000


def test_no_connection_limit_without_resource_limits(mesh):
    state = mesh([instance("pay", 1)], [sidecar_for(1)])
    node = dataclasses.replace(NODE, service="pay")

    filters = inbound.inbound_listener(state, node).filter_chains[0].filters
    assert [f.name for f in filters] == ["envoy.filters.network.http_connection_manager"]


def test_the_http_filters_come_in_enforcement_order(mesh):
    names = [
        f.name for f in manager_of(inbound.inbound_listener(every_feature(mesh), NODE)).http_filters
    ]

    assert names == [
        "envoy.filters.http.jwt_authn",
        "lucid.rbac.deny",
        "lucid.rbac.allow",
        "envoy.filters.http.local_ratelimit",
        "envoy.filters.http.router",
    ]


def test_the_local_app_cluster_is_static_on_loopback(mesh):
    (app,) = [
        c
        for c in inbound.local_clusters(every_feature(mesh), NODE)
        if c.name.startswith("inbound|")
    ]

    assert app.type == cluster_pb2.Cluster.STATIC
    address = app.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
    assert (address.address, address.port_value) == ("127.0.0.1", 8080)
    options = unpack(
        app.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS],
        http_protocol_options_pb2.HttpProtocolOptions,
    )
    assert options.explicit_http_config.HasField("http_protocol_options")


def test_a_grpc_service_talks_http2_to_its_local_app(mesh):
    state = mesh([instance("chain", 1, endpoint=endpoint(host="10.0.0.1", protocol="grpc"))])
    node = dataclasses.replace(NODE, service="chain")

    (app,) = inbound.local_clusters(state, node)
    options = unpack(
        app.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS],
        http_protocol_options_pb2.HttpProtocolOptions,
    )
    assert options.explicit_http_config.HasField("http2_protocol_options")


def test_local_clusters_add_jwks_and_tracing_clusters_sorted(mesh):
    names = [c.name for c in inbound.local_clusters(every_feature(mesh), NODE)]

    assert names == ["inbound|8080", "jwks|auth.lucid.onion:443", "tracing|otel.lucid.onion:4317"]


def test_the_destination_side_is_byte_identical_across_translations(mesh):
    def serialized():
        state = every_feature(mesh)
        messages = [
            inbound.inbound_listener(state, NODE),
            inbound.edge_listener(state, NODE),
            inbound.inbound_route_configuration(state, NODE),
            *inbound.local_clusters(state, NODE),
        ]
        return [m.SerializeToString(deterministic=True) for m in messages]

    assert serialized() == serialized()


def test_the_edge_listener_can_keep_sticky_sessions_its_routes_turn_on(mesh):
    # Edge routes are the gateway's routing table: a route to a destination with sticky
    # sessions carries the stateful-session filter's per-route configuration.
    names = [
        f.name for f in manager_of(inbound.edge_listener(every_feature(mesh), NODE)).http_filters
    ]

    assert names[-2:] == [STATEFUL_SESSION_FILTER, "envoy.filters.http.router"]
