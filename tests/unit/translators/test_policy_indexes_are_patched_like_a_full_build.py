"""A state built from one with the very same registrations patches its policy indexes
(by destination, by source, by routing source) from the previous state's instead of
grouping every policy again; the result must equal a fresh build's, whatever changed."""

from __future__ import annotations

import random

import pytest

from benchmarks.meshgen import generate
from lucid.translators import sources
from lucid.translators.state import MeshState, build_state


def _indexes(state: MeshState) -> tuple[object, ...]:
    names = sorted(state.services)
    return (
        {n: state.traffic_to(n) for n in names},
        {n: state.traffic_from(n) for n in names},
        {n: state.security_to(n) for n in names},
        sources._traffic_by_source(state),
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_patched_indexes_equal_a_fresh_build(seed):
    rng = random.Random(seed)
    registrations, sidecars, traffic, security = generate(40, 1, 60, 20, dependencies=3)
    state = build_state(registrations, sidecars, traffic, security)
    _indexes(state)  # computed, so the next state has something to patch
    for _ in range(25):
        for _ in range(rng.choice([1, 1, 2, 40])):  # 40: more than a patch takes
            i = rng.randrange(len(traffic))
            update = rng.choice(
                [
                    {"priority": rng.randint(1, 1000)},
                    {"enabled": rng.random() < 0.5},
                    {"source": rng.choice(["*", "plane:ops", "svc-0003", "cluster:api-gateway"])},
                    {"destination": rng.choice(["svc-0001", "plane:chain", "svc-00*"])},
                ]
            )
            traffic[i] = traffic[i].model_copy(update=update)
        j = rng.randrange(len(security))
        security[j] = security[j].model_copy(update={"enabled": rng.random() < 0.5})
        patched = build_state(registrations, sidecars, traffic, security, previous=state)
        assert patched.parent() is state
        assert _indexes(patched) == _indexes(
            build_state(registrations, sidecars, traffic, security)
        )
        state = patched


def test_a_new_registration_list_gets_no_parent():
    registrations, sidecars, traffic, security = generate(5, 1, 4, 2)
    state = build_state(registrations, sidecars, traffic, security)
    again = build_state(registrations[1:], sidecars, traffic, security, previous=state)
    assert again.parent() is None


def test_only_one_generation_is_kept():
    registrations, sidecars, traffic, security = generate(5, 1, 4, 2)
    first = build_state(registrations, sidecars, traffic, security)
    second = build_state(registrations, sidecars, traffic, security, previous=first)
    third = build_state(registrations, sidecars, traffic, security, previous=second)
    assert third.parent() is second
    assert second.parent() is None


def test_certificates_added_later_keep_the_parent():
    registrations, sidecars, traffic, security = generate(5, 1, 4, 2)
    first = build_state(registrations, sidecars, traffic, security)
    second = build_state(registrations, sidecars, traffic, security, previous=first)
    with_certificates = second.with_identities({}, "bundle")
    assert with_certificates.parent() is first
    assert with_certificates.trust_bundle == "bundle"
