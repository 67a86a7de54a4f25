"""A node's destinations (its clusters and virtual hosts): every registered service, or,
when its registration lists `metadata.dependencies`, those plus whatever its own routing
and its traffic rules name."""

from __future__ import annotations

from lucid.translators.routes import destinations
from tests.builders import (
    instance,
    route,
    routing,
    sidecar_for,
    traffic_policy,
    traffic_rule,
)

NAMES = ["ledger", "ledger-canary", "mirror-sink", "payments", "sessions", "unrelated"]


def registrations(dependencies=None):
    documents = [instance(name, n) for n, name in enumerate(NAMES, start=10)]
    metadata = {"dependencies": dependencies} if dependencies is not None else {}
    return [instance("gateway", 1, metadata=metadata), *documents]


def test_without_dependencies_every_registered_service_is_a_destination(mesh):
    state = mesh(registrations())
    assert destinations(state, "gateway") == ("gateway", *NAMES)


def test_an_empty_dependency_list_names_nothing_so_everything_is_reachable(mesh):
    state = mesh(registrations([]))
    assert len(destinations(state, "gateway")) == len(NAMES) + 1


def test_dependencies_scope_the_destinations_to_registered_ones(mesh):
    state = mesh(registrations(["payments", "not-registered"]))
    assert destinations(state, "gateway") == ("payments",)


def test_routes_and_the_default_route_are_added_to_the_dependencies(mesh):
    sidecar = sidecar_for(
        1,
        routing=routing(
            defaultRoute="sessions", routes=[route(destination="ledger", match={"path": "/l/*"})]
        ),
    )
    state = mesh(registrations(["payments"]), [sidecar])
    assert destinations(state, "gateway") == ("ledger", "payments", "sessions")


def test_split_mirror_and_redirect_targets_of_applicable_rules_are_added(mesh):
    split = traffic_rule(
        "weighted-split",
        parameters={
            "destinations": [
                {"destination": "ledger", "weight": 90},
                {"destination": "ledger-canary", "weight": 10},
            ]
        },
    )
    mirror = traffic_rule("mirror", parameters={"destination": "mirror-sink", "percentage": 5})
    redirect = traffic_rule(
        "redirect", match={"path": "/old/*"}, parameters={"target": "http://sessions.lucid.onion/"}
    )
    policies = [
        traffic_policy(name="split", source="gateway", destination="ledger", rules=[split]),
        traffic_policy(name="mirror", source="gateway", destination="ledger", rules=[mirror]),
        traffic_policy(name="moved", source="gateway", destination="payments", rules=[redirect]),
        # Another source's rules do not widen the gateway's view.
        traffic_policy(
            name="other",
            source="payments",
            destination="ledger",
            rules=[traffic_rule("mirror", parameters={"destination": "unrelated"})],
        ),
    ]
    state = mesh(registrations(["ledger", "payments"]), traffic=policies)
    assert destinations(state, "gateway") == (
        "ledger",
        "ledger-canary",
        "mirror-sink",
        "payments",
        "sessions",
    )


def test_rules_for_a_destination_outside_the_scope_add_nothing(mesh):
    mirror = traffic_rule("mirror", parameters={"destination": "mirror-sink", "percentage": 5})
    policy = traffic_policy(source="gateway", destination="unrelated", rules=[mirror])
    state = mesh(registrations(["ledger"]), traffic=[policy])
    assert destinations(state, "gateway") == ("ledger",)


def test_an_unregistered_service_has_every_destination(mesh):
    state = mesh(registrations(["ledger"]))
    assert destinations(state, "stranger") == ("gateway", *NAMES)
