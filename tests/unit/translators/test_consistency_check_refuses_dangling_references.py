"""Nothing is published while a node's view names a resource it does not contain.

Each test breaks one reference on purpose (an EDS cluster without its load assignment, a
listener whose route configuration is missing, a route to a missing cluster, a TLS
context naming a secret that was not sent) and checks the check names it precisely.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest
from envoy.config.core.v3 import config_source_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2, tls_pb2

from lucid.translators.consistency import InconsistentResources, dangling_references
from lucid.translators.hcm import http_connection_manager, http_connection_manager_filter
from lucid.translators.mesh import NodeResources, Translation, check_consistency
from lucid.translators.messages import pack
from lucid.translators.node import Node
from lucid.xds.resources import ADS_ORDER, CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET
from tests.builders import endpoint, instance

NODE = Node(id="probe", service="api-gateway")


def view(**by_type):
    return NodeResources(
        node=NODE,
        resources=MappingProxyType(
            {t: MappingProxyType(dict(by_type.get(t, {}))) for t in ADS_ORDER}
        ),
    )


def eds_view(mesh):
    state = mesh([instance("blockchain-core", 1, endpoint=endpoint(host="10.0.0.1"))])
    translation = Translation(state)
    cluster = translation.cluster("blockchain-core")
    assignment = translation.load_assignment("blockchain-core")
    return cluster, assignment


def test_eds_cluster_with_its_load_assignment_is_consistent(mesh):
    cluster, assignment = eds_view(mesh)
    check_consistency(
        view(**{CLUSTER: {cluster.name: cluster}, ENDPOINT: {assignment.cluster_name: assignment}})
    )


def test_eds_cluster_without_its_load_assignment_is_inconsistent(mesh):
    cluster, _ = eds_view(mesh)
    with pytest.raises(InconsistentResources) as caught:
        check_consistency(view(**{CLUSTER: {cluster.name: cluster}}))
    assert str(caught.value) == (
        "node 'probe': CDS 'outbound|blockchain-core' names EDS 'outbound|blockchain-core', "
        "which does not exist"
    )


def listener_naming(route_name):
    manager = http_connection_manager(
        stat_prefix="probe",
        http_filters=[],
        sidecar=None,
        service="x",
        route_config_name=route_name,
    )
    return listener_pb2.Listener(
        name="lucid-outbound",
        filter_chains=[
            listener_components_pb2.FilterChain(filters=[http_connection_manager_filter(manager)])
        ],
    )


def route_to(cluster):
    return route_pb2.RouteConfiguration(
        name="routes-out|x",
        virtual_hosts=[
            route_components_pb2.VirtualHost(
                name="all",
                domains=["*"],
                routes=[
                    route_components_pb2.Route(
                        match=route_components_pb2.RouteMatch(prefix="/"),
                        route=route_components_pb2.RouteAction(cluster=cluster),
                    )
                ],
            )
        ],
    )


def test_listener_naming_a_missing_route_configuration_is_inconsistent():
    listener = listener_naming("routes-out|x")
    dangling = dangling_references(view(**{LISTENER: {listener.name: listener}}).resources)
    assert [(d.owner_type, d.owner, d.type_url, d.name) for d in dangling] == [
        (LISTENER, "lucid-outbound", ROUTE, "routes-out|x")
    ]


def test_route_to_a_missing_cluster_is_inconsistent():
    listener = listener_naming("routes-out|x")
    routes = route_to("outbound|nowhere")
    dangling = dangling_references(
        view(**{LISTENER: {listener.name: listener}, ROUTE: {routes.name: routes}}).resources
    )
    assert [str(d) for d in dangling] == [
        "RDS 'routes-out|x' names CDS 'outbound|nowhere', which does not exist"
    ]


def tls_listener():
    ads = config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(), resource_api_version=config_source_pb2.V3
    )
    context = tls_pb2.DownstreamTlsContext()
    context.common_tls_context.tls_certificate_sds_secret_configs.append(
        secret_pb2.SdsSecretConfig(name="lucid-identity", sds_config=ads)
    )
    listener = listener_naming("routes-out|x")
    listener.filter_chains[0].transport_socket.name = "envoy.transport_sockets.tls"
    listener.filter_chains[0].transport_socket.typed_config.CopyFrom(pack(context))
    return listener


def test_tls_context_naming_a_secret_that_was_not_sent_is_inconsistent():
    listener = tls_listener()
    routes = route_to("outbound|x")
    resources = {LISTENER: {listener.name: listener}, ROUTE: {routes.name: routes}}
    secret_refs = [d.name for d in dangling_references(resources) if d.type_url == SECRET]
    assert secret_refs == ["lucid-identity"]
    resources[SECRET] = {"lucid-identity": secret_pb2.Secret(name="lucid-identity")}
    assert [d.type_url for d in dangling_references(resources)] == [CLUSTER]
