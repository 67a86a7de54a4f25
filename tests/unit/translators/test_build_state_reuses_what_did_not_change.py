"""`build_state(previous=...)` given the very registrations and sidecars of the previous
state reuses its services and sidecars instead of regrouping them; a status change rebuilds
only the service it touches, and the caller's own collections are snapshots, not shared."""

from __future__ import annotations

import pytest

from lucid.models import ServiceRegistration, SidecarConfiguration
from lucid.translators.state import build_state
from tests.builders import instance, numbered_service_id, sidecar_for


@pytest.fixture
def inputs():
    registrations = [
        ServiceRegistration.model_validate(r)
        for r in (instance("alpha", 1), instance("alpha", 2), instance("bravo", 3))
    ]
    sidecars = [SidecarConfiguration.model_validate(sidecar_for(1))]
    return registrations, sidecars


def test_the_same_inputs_keep_the_same_services_and_sidecars(inputs):
    registrations, sidecars = inputs
    first = build_state(registrations, sidecars)
    second = build_state(list(registrations), list(sidecars), previous=first)
    assert second.services is first.services
    assert second.sidecars is first.sidecars
    assert second == build_state(registrations, sidecars)


def test_a_status_change_rebuilds_only_its_service(inputs):
    registrations, sidecars = inputs
    statuses = {numbered_service_id(1): "healthy"}
    first = build_state(registrations, sidecars, statuses=statuses)
    statuses[numbered_service_id(2)] = "expired"  # the caller's dict, changed in place
    second = build_state(registrations, sidecars, statuses=statuses, previous=first)
    assert second.services["bravo"] is first.services["bravo"]
    assert second.services["alpha"] is not first.services["alpha"]
    assert [i.status for i in second.services["alpha"].instances] == ["healthy", "expired"]
    assert second == build_state(registrations, sidecars, statuses=dict(statuses))


def test_an_unknown_status_is_refused_on_the_fast_path_too(inputs):
    registrations, sidecars = inputs
    first = build_state(registrations, sidecars)
    with pytest.raises(ValueError, match="unknown registration status 'sleepy'"):
        build_state(
            registrations, sidecars, statuses={numbered_service_id(3): "sleepy"}, previous=first
        )


def test_a_replaced_registration_is_seen(inputs):
    registrations, sidecars = inputs
    first = build_state(registrations, sidecars)
    moved = ServiceRegistration.model_validate(instance("alpha", 1, plane="ops"))
    second = build_state([moved, *registrations[1:]], sidecars, previous=first)
    assert second.services["alpha"].planes == {"ops", "chain"}
    assert second.services["bravo"] is first.services["bravo"]
