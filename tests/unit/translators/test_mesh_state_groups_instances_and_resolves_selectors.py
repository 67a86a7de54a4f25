"""`MeshState` groups registrations by serviceName in a stable order, keeps registry
health, finds a service's sidecar, and resolves every kind of selector."""

from __future__ import annotations

import pytest

from tests.builders import instance, numbered_service_id, sidecar_for


def test_instances_are_grouped_by_service_and_sorted(mesh):
    state = mesh(
        [instance("blockchain-core", 2), instance("api-gateway", 3), instance("blockchain-core", 1)]
    )
    assert list(state.services) == ["api-gateway", "blockchain-core"]
    hosts = [i.host for i in state.services["blockchain-core"].instances]
    assert hosts == ["10.0.0.1", "10.0.0.2"]


def test_input_order_does_not_matter(mesh):
    a = [instance("blockchain-core", 1), instance("blockchain-core", 2)]
    assert mesh(a) == mesh(list(reversed(a)))


def test_services_and_instances_are_hashable(mesh):
    state = mesh([instance("blockchain-core", 1)])
    assert hash(state.services["blockchain-core"]) == hash(
        mesh([instance("blockchain-core", 1)]).services["blockchain-core"]
    )


def test_stored_status_is_kept_and_unknown_is_the_default(mesh):
    state = mesh(
        [instance("blockchain-core", 1), instance("blockchain-core", 2)],
        statuses={numbered_service_id(1): "degraded"},
    )
    assert [i.status for i in state.services["blockchain-core"].instances] == [
        "degraded",
        "unknown",
    ]


def test_an_unknown_status_is_refused(mesh):
    with pytest.raises(ValueError, match="sleepy"):
        mesh([instance("blockchain-core", 1)], statuses={numbered_service_id(1): "sleepy"})


def test_weight_comes_from_registration_metadata(mesh):
    state = mesh(
        [instance("blockchain-core", 1, metadata={"weight": 7}), instance("blockchain-core", 2)]
    )
    assert [i.weight for i in state.services["blockchain-core"].instances] == [7, 1]


def test_a_service_uses_the_sidecar_of_its_lowest_service_id(mesh):
    state = mesh(
        [instance("blockchain-core", 2), instance("blockchain-core", 3)],
        sidecars=[sidecar_for(3, version="three"), sidecar_for(2, version="two")],
    )
    sidecar = state.sidecar_of_service("blockchain-core")
    assert sidecar is not None and sidecar.version == "two"
    assert state.sidecar_of_service("api-gateway") is None


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("blockchain-core", {"blockchain-core"}),
        ("unknown-service", set()),
        ("blockchain-*", {"blockchain-core", "blockchain-core-canary"}),
        ("*", {"api-gateway", "blockchain-core", "blockchain-core-canary", "tron-payment"}),
        ("cluster:api-gateway", {"api-gateway"}),
        ("plane:wallet", {"tron-payment"}),
        ("plane:chain", {"blockchain-core", "blockchain-core-canary"}),
    ],
)
def test_selectors_resolve_to_registered_service_names(mesh, selector, expected):
    state = mesh(
        [
            instance("api-gateway", 1, cluster="api-gateway", plane="ops"),
            instance("blockchain-core", 2),
            instance("blockchain-core-canary", 3),
            instance("tron-payment", 4, cluster="tron-payment", plane="wallet"),
        ]
    )
    assert state.resolve(selector) == frozenset(expected)
