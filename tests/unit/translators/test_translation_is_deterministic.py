"""The same state gives byte-identical clusters and load assignments, whatever order the
documents arrived in: resource versions are hashes of these bytes."""

from __future__ import annotations

from lucid.translators.clusters import clusters
from lucid.translators.endpoints import load_assignments
from tests.builders import (
    circuit_break_policy,
    endpoint,
    health_check,
    instance,
    load_balancing,
    numbered_service_id,
    routing,
    sidecar_for,
    timeout_config,
)


def documents():
    registrations = [
        instance("blockchain-core", n, metadata={"weight": n, "tags": ["a", "b"]})
        for n in range(1, 6)
    ] + [
        instance(
            "api-gateway",
            7,
            healthCheck=health_check(
                httpCheck={"headers": {"b": "2", "a": "1", "c": "3"}, "expectedStatus": [204, 200]}
            ),
        ),
        instance("tron-payment", 8, endpoint=endpoint(host="10.0.0.8", protocol="grpcs")),
        instance("session-recorder", 9, endpoint=endpoint(host="rec.lucid.onion")),
    ]
    sidecars = [
        sidecar_for(
            1,
            policies=[circuit_break_policy(maxConnections=9)],
            routing=routing(
                loadBalancing=load_balancing(algorithm="weighted"), timeout=timeout_config()
            ),
        ),
        sidecar_for(8, routing=routing(loadBalancing=load_balancing(algorithm="consistent-hash"))),
    ]
    statuses = {numbered_service_id(2): "unhealthy", numbered_service_id(3): "expired"}
    return registrations, sidecars, statuses


def serialized(state):
    return [
        m.SerializeToString(deterministic=True)
        for m in (*clusters(state), *load_assignments(state))
    ]


def test_same_state_gives_identical_bytes(mesh):
    registrations, sidecars, statuses = documents()
    first = serialized(mesh(registrations, sidecars, statuses=statuses))
    second = serialized(
        mesh(
            list(reversed(registrations)),
            list(reversed(sidecars)),
            statuses=dict(reversed(statuses.items())),
        )
    )
    assert first == second
    assert len(first) == 4 + 3


def test_clusters_come_sorted_by_name(mesh):
    registrations, sidecars, statuses = documents()
    names = [c.name for c in clusters(mesh(registrations, sidecars, statuses=statuses))]
    assert names == sorted(names)
