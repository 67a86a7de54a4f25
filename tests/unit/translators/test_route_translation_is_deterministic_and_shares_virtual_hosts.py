"""Outbound routes are byte-identical for equal states whatever the input order, and a
destination's virtual host is built once per source signature and shared: sources with the
same routing defaults and no rules of their own for it get the very same message."""

from __future__ import annotations

from lucid.translators.outbound import outbound_listener
from lucid.translators.routes import route_configurations
from lucid.translators.sources import source
from lucid.translators.virtual_hosts import virtual_host
from tests.builders import (
    instance,
    retry_config,
    route,
    routing,
    sidecar_for,
    traffic_policy,
    traffic_rule,
)
from tests.unit.translators.source_side import node

NAMES = ["alpha", "bravo", "charlie", "delta"]


def documents():
    registrations = [instance(name, n) for n, name in enumerate(NAMES, start=1)]
    sidecars = [
        sidecar_for(
            n,
            routing=routing(
                defaultRoute="delta",
                retry=retry_config(maxAttempts=3),
                routes=[route(match={"path": "/b/*"}, destination="bravo")],
            ),
        )
        for n in (1, 2, 3)
    ]
    traffic = [
        traffic_policy(
            name="alpha-mirrors-charlie",
            source="alpha",
            destination="charlie",
            rules=[traffic_rule("mirror", parameters={"destination": "delta", "percentage": 5})],
        ),
        traffic_policy(
            name="everyone-redirects",
            source="*",
            destination="bravo",
            rules=[traffic_rule("redirect", match={"path": "/old"}, parameters={"target": "/"})],
        ),
    ]
    return registrations, sidecars, traffic


def serialized(state):
    return [
        message.SerializeToString(deterministic=True)
        for name in NAMES
        for message in (
            *route_configurations(state, node(name, edge_port=10000)),
            outbound_listener(state, node(name)),
        )
    ]


def test_two_translations_of_equal_states_are_byte_identical(mesh):
    registrations, sidecars, traffic = documents()
    first = serialized(mesh(registrations, sidecars, traffic))
    second = serialized(mesh(registrations[::-1], sidecars[::-1], traffic[::-1]))
    assert first == second


def test_sources_with_the_same_signature_share_the_virtual_host(mesh):
    state = mesh(*documents())
    alpha, bravo = source(state, "alpha"), source(state, "bravo")
    assert virtual_host(state, alpha, "delta", False) is virtual_host(state, bravo, "delta", False)
    assert virtual_host(state, alpha, "bravo", False) is virtual_host(state, bravo, "bravo", False)


def test_a_source_with_its_own_rule_gets_its_own_virtual_host(mesh):
    state = mesh(*documents())
    alpha, bravo = source(state, "alpha"), source(state, "bravo")
    own = virtual_host(state, alpha, "charlie", False)
    assert own is not virtual_host(state, bravo, "charlie", False)
    assert own.routes[0].route.request_mirror_policies


def test_different_routing_defaults_give_different_virtual_hosts(mesh):
    state = mesh(*documents())
    # delta has no sidecar configuration, hence no retry default.
    delta, alpha = source(state, "delta"), source(state, "alpha")
    assert virtual_host(state, delta, "bravo", False) != virtual_host(state, alpha, "bravo", False)
