"""Each service's load assignment holds its live instances, sorted, in one locality with a
weight (gRPC proxyless clients need it), with health from the registry; expired ones
are left out."""

from __future__ import annotations

from envoy.config.core.v3 import health_check_pb2

from lucid.translators.endpoints import cluster_name, load_assignments
from tests.builders import endpoint, instance, numbered_service_id


def test_one_assignment_per_service_named_like_its_cluster(mesh):
    state = mesh([instance("blockchain-core", 1), instance("api-gateway", 2)])
    names = [a.cluster_name for a in load_assignments(state)]
    assert names == ["outbound|api-gateway", "outbound|blockchain-core"]
    assert cluster_name("api-gateway") == "outbound|api-gateway"


def test_endpoints_are_sorted_in_one_weighted_locality(mesh):
    state = mesh([instance("blockchain-core", 3), instance("blockchain-core", 1)])
    (assignment,) = load_assignments(state)
    (locality,) = assignment.endpoints
    assert locality.load_balancing_weight.value == 1
    addresses = [e.endpoint.address.socket_address for e in locality.lb_endpoints]
    assert [(a.address, a.port_value) for a in addresses] == [
        ("10.0.0.1", 8080),
        ("10.0.0.3", 8080),
    ]


def test_status_maps_to_health_status_and_expired_is_left_out(mesh):
    statuses = ["healthy", "unhealthy", "degraded", "unknown", "expired"]
    state = mesh(
        [instance("blockchain-core", n) for n in range(1, 7)],
        statuses={numbered_service_id(n): s for n, s in enumerate(statuses, start=1)},
    )
    (assignment,) = load_assignments(state)
    found = [
        (e.endpoint.address.socket_address.address, e.health_status)
        for e in assignment.endpoints[0].lb_endpoints
    ]
    assert found == [
        ("10.0.0.1", health_check_pb2.HEALTHY),
        ("10.0.0.2", health_check_pb2.UNHEALTHY),
        ("10.0.0.3", health_check_pb2.DEGRADED),
        ("10.0.0.4", health_check_pb2.UNKNOWN),
        ("10.0.0.6", health_check_pb2.UNKNOWN),
    ]


def test_a_service_with_only_expired_instances_has_an_empty_assignment(mesh):
    state = mesh([instance("blockchain-core", 1)], statuses={numbered_service_id(1): "expired"})
    (assignment,) = load_assignments(state)
    assert list(assignment.endpoints[0].lb_endpoints) == []


def test_dns_named_services_get_no_eds_resource(mesh):
    state = mesh([instance("blockchain-core", 1, endpoint=endpoint(host="chain.lucid.onion"))])
    assert load_assignments(state) == ()
