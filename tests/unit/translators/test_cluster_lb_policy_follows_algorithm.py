"""Each load-balancing algorithm of the destination's sidecar maps to one Envoy lb_policy;
`weighted` is round robin with endpoint weights from registration `metadata.weight`."""

from __future__ import annotations

import pytest
from envoy.config.cluster.v3 import cluster_pb2

from lucid.translators.clusters import cluster
from lucid.translators.endpoints import load_assignments
from tests.builders import instance, load_balancing, routing, sidecar_for

Cluster = cluster_pb2.Cluster


def with_algorithm(mesh, algorithm, **registration):
    return mesh(
        [instance("blockchain-core", 1, **registration), instance("blockchain-core", 2)],
        sidecars=[
            sidecar_for(1, routing=routing(loadBalancing=load_balancing(algorithm=algorithm)))
        ],
    )


@pytest.mark.parametrize(
    ("algorithm", "policy"),
    [
        ("round-robin", Cluster.ROUND_ROBIN),
        ("least-connections", Cluster.LEAST_REQUEST),
        ("random", Cluster.RANDOM),
        ("weighted", Cluster.ROUND_ROBIN),
        ("consistent-hash", Cluster.RING_HASH),
    ],
)
def test_algorithm_maps_to_lb_policy(mesh, algorithm, policy):
    state = with_algorithm(mesh, algorithm)
    assert cluster(state, state.services["blockchain-core"]).lb_policy == policy


def test_no_sidecar_means_round_robin(mesh):
    state = mesh([instance("blockchain-core", 1)])
    assert cluster(state, state.services["blockchain-core"]).lb_policy == Cluster.ROUND_ROBIN


def test_weighted_puts_metadata_weight_on_endpoints(mesh):
    state = with_algorithm(mesh, "weighted", metadata={"weight": 3})
    (assignment,) = load_assignments(state)
    weights = [e.load_balancing_weight.value for e in assignment.endpoints[0].lb_endpoints]
    assert weights == [3, 1]


def test_other_algorithms_leave_endpoint_weights_unset(mesh):
    state = with_algorithm(mesh, "round-robin", metadata={"weight": 3})
    (assignment,) = load_assignments(state)
    assert not any(
        e.HasField("load_balancing_weight") for e in assignment.endpoints[0].lb_endpoints
    )
