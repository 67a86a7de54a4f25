"""Timeouts on outbound routes: request → route timeout, response → per-try timeout,
idle → route idle timeout; the destination's circuit-breaker timeout when no request
timeout is written; Envoy's own default (15 s) when nothing is."""

from __future__ import annotations

from tests.builders import (
    circuit_break_policy,
    instance,
    policy_rule,
    retry_config,
    route,
    routing,
    sidecar_for,
    sidecar_policy,
)
from tests.unit.translators.source_side import outbound_routes, routes_to, vhost


def state_with(mesh, policies=(), destination_policies=(), **routing_fields):
    registrations = [instance("gateway", 1), instance("ledger", 2)]
    sidecars = [
        sidecar_for(
            1, routing=routing(defaultRoute="ledger", **routing_fields), policies=list(policies)
        ),
        sidecar_for(
            2, routing=routing(defaultRoute="gateway"), policies=list(destination_policies)
        ),
    ]
    return mesh(registrations, sidecars)


def ledger_route(state):
    (found,) = routes_to(state, "gateway", "ledger")
    return found.route


def test_without_timeouts_envoy_keeps_its_defaults(mesh):
    action = ledger_route(state_with(mesh))
    assert not action.HasField("timeout")
    assert not action.HasField("idle_timeout")


def test_request_and_idle_become_route_timeouts(mesh):
    action = ledger_route(state_with(mesh, timeout={"request": 12000, "idle": 90000}))
    assert action.timeout.ToMilliseconds() == 12000
    assert action.idle_timeout.ToMilliseconds() == 90000


def test_only_written_fields_count(mesh):
    action = ledger_route(state_with(mesh, timeout={"connect": 800}))
    assert not action.HasField("timeout")


def test_response_is_the_per_try_timeout_when_retrying(mesh):
    action = ledger_route(
        state_with(mesh, timeout={"request": 30000, "response": 5000}, retry=retry_config())
    )
    assert action.timeout.ToMilliseconds() == 30000
    assert action.retry_policy.per_try_timeout.ToMilliseconds() == 5000


def test_without_retries_the_response_timeout_caps_the_request_timeout(mesh):
    action = ledger_route(state_with(mesh, timeout={"request": 30000, "response": 5000}))
    assert action.timeout.ToMilliseconds() == 5000
    assert not action.HasField("retry_policy")


def test_the_destination_circuit_breaker_timeout_applies_when_none_is_written(mesh):
    breaker = [circuit_break_policy(timeout=2500)]
    assert (
        ledger_route(state_with(mesh, destination_policies=breaker)).timeout.ToMilliseconds()
        == 2500
    )
    written = state_with(mesh, destination_policies=breaker, timeout={"request": 9000})
    assert ledger_route(written).timeout.ToMilliseconds() == 9000


def test_a_circuit_breaker_without_a_written_timeout_sets_none(mesh):
    breaker = [circuit_break_policy()]
    assert not ledger_route(state_with(mesh, destination_policies=breaker)).HasField("timeout")


def test_a_routes_own_timeout_is_its_request_timeout(mesh):
    state = state_with(
        mesh,
        timeout={"request": 30000},
        routes=[route(match={"path": "/slow/*"}, destination="ledger", timeout=60000)],
    )
    slow, default = vhost(outbound_routes(state, "gateway"), "*").routes
    assert slow.route.timeout.ToMilliseconds() == 60000
    assert default.route.timeout.ToMilliseconds() == 30000


def test_a_timeout_policy_lays_its_written_fields_over_the_defaults(mesh):
    policy = sidecar_policy(
        "timeout",
        conditions={"destination": "ledger"},
        rules=[policy_rule("timeout", parameters={"request": 4000})],
    )
    action = ledger_route(state_with(mesh, [policy], timeout={"request": 30000, "idle": 70000}))
    assert action.timeout.ToMilliseconds() == 4000
    assert action.idle_timeout.ToMilliseconds() == 70000


def test_a_higher_priority_timeout_policy_wins(mesh):
    def timeout_policy(priority, request):
        return sidecar_policy(
            "timeout",
            policyId=f"timeout-{priority}",
            priority=priority,
            rules=[policy_rule("timeout", parameters={"request": request})],
        )

    policies = [timeout_policy(100, 3000), timeout_policy(700, 7000)]
    assert ledger_route(state_with(mesh, policies)).timeout.ToMilliseconds() == 7000
