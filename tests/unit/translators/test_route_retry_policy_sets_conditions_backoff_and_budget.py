"""Retries: the source's `routing.retry` by default, a route's own `retry` over it, retry
policies of the source sidecar over both (higher priority first); conditions, back-off
and attempts mapped to Envoy, gRPC codes only for gRPC services; a retry budget on the
destination's circuit breakers."""

from __future__ import annotations

import pytest

from lucid.translators.clusters import cluster
from tests.builders import (
    circuit_break_policy,
    endpoint,
    instance,
    policy_rule,
    retry_config,
    route,
    routing,
    sidecar_for,
    sidecar_policy,
)
from tests.unit.translators.source_side import outbound_routes, routes_to, vhost


def state_with(mesh, retry=None, policies=(), routes=None, protocol="http"):
    registrations = [
        instance("gateway", 1),
        instance("ledger", 2, endpoint=endpoint(host="10.0.0.2", protocol=protocol)),
        instance("sessions", 3),
    ]
    fields = {"defaultRoute": "ledger"}
    if retry is not None:
        fields["retry"] = retry
    if routes is not None:
        fields["routes"] = routes
    sidecar = sidecar_for(1, routing=routing(**fields), policies=list(policies))
    return mesh(registrations, [sidecar])


def retry_policy(priority, conditions=None, match=None, **parameters):
    rule = policy_rule("retry", parameters=retry_config(**parameters))
    if match is not None:
        rule["match"] = match
    document = sidecar_policy(
        "retry", policyId=f"retry-{priority}", priority=priority, rules=[rule]
    )
    if conditions is not None:
        document["conditions"] = conditions
    return document


def only_route(state, destination="ledger"):
    (found,) = routes_to(state, "gateway", destination)
    return found.route


def test_attempts_and_back_off_come_from_the_retry_config(mesh):
    retry = retry_config(maxAttempts=4, initialDelay=250, maxDelay=4000)
    policy = only_route(state_with(mesh, retry)).retry_policy
    assert policy.num_retries.value == 3
    assert policy.retry_back_off.base_interval.ToMilliseconds() == 250
    assert policy.retry_back_off.max_interval.ToMilliseconds() == 4000
    assert policy.retry_host_predicate[0].name == "envoy.retry_host_predicates.previous_hosts"


@pytest.mark.parametrize(
    ("errors", "retry_on"),
    [
        (["5xx"], "5xx"),
        (["gateway-error"], "gateway-error"),
        (["connection-error"], "connect-failure,refused-stream,reset"),
        (["timeout"], "reset"),
        (["retriable-4xx", "refused-stream"], "refused-stream,retriable-4xx"),
        (["5xx", "unavailable"], "5xx"),
    ],
)
def test_retryable_errors_map_to_retry_on_conditions(mesh, errors, retry_on):
    retry = retry_config(retryableErrors=errors)
    assert only_route(state_with(mesh, retry)).retry_policy.retry_on == retry_on


def test_grpc_codes_are_retried_for_grpc_services(mesh):
    retry = retry_config(retryableErrors=["unavailable", "resource-exhausted", "connection-error"])
    found = only_route(state_with(mesh, retry, protocol="grpc")).retry_policy.retry_on
    assert found == "connect-failure,refused-stream,reset,resource-exhausted,unavailable"


def test_only_grpc_codes_on_an_http_service_means_no_retries(mesh):
    retry = retry_config(retryableErrors=["unavailable"])
    assert not only_route(state_with(mesh, retry)).HasField("retry_policy")


def test_without_any_retry_config_there_is_no_retry_policy(mesh):
    assert not only_route(state_with(mesh)).HasField("retry_policy")


def test_a_routes_own_retry_replaces_the_default_on_that_route(mesh):
    state = state_with(
        mesh,
        retry_config(maxAttempts=3),
        routes=[
            route(match={"path": "/s/*"}, destination="sessions", retry=retry_config(maxAttempts=5))
        ],
    )
    own, default = vhost(outbound_routes(state, "gateway"), "*").routes
    assert own.route.retry_policy.num_retries.value == 4
    assert default.route.retry_policy.num_retries.value == 2


def test_a_retry_policy_for_the_destination_overrides_the_default(mesh):
    policy = retry_policy(100, conditions={"destination": "ledger"}, maxAttempts=6)
    state = state_with(mesh, retry_config(maxAttempts=2), policies=[policy])
    assert only_route(state).retry_policy.num_retries.value == 5
    assert only_route(state, "sessions").retry_policy.num_retries.value == 1


def test_a_retry_policy_overrides_a_routes_own_retry(mesh):
    policy = retry_policy(100, maxAttempts=6)
    state = state_with(
        mesh,
        policies=[policy],
        routes=[
            route(match={"path": "/s/*"}, destination="sessions", retry=retry_config(maxAttempts=5))
        ],
    )
    own, _ = vhost(outbound_routes(state, "gateway"), "*").routes
    assert own.route.retry_policy.num_retries.value == 5


def test_the_higher_priority_retry_policy_wins(mesh):
    policies = [retry_policy(100, maxAttempts=2), retry_policy(900, maxAttempts=7)]
    assert only_route(state_with(mesh, policies=policies)).retry_policy.num_retries.value == 6


def test_a_policy_for_another_source_or_a_disabled_one_does_not_apply(mesh):
    elsewhere = retry_policy(100, conditions={"source": "sessions"}, maxAttempts=9)
    off = {**retry_policy(200, maxAttempts=8), "enabled": False}
    state = state_with(mesh, retry_config(maxAttempts=2), policies=[elsewhere, off])
    assert only_route(state).retry_policy.num_retries.value == 1


def test_path_and_method_conditions_add_a_route_before_the_general_one(mesh):
    policy = retry_policy(100, conditions={"path": "/pay/*", "method": "POST"}, maxAttempts=1)
    state = state_with(mesh, retry_config(maxAttempts=3), policies=[policy])
    pay, general = routes_to(state, "gateway", "ledger")
    assert pay.match.prefix == "/pay/"
    assert [(h.name, h.string_match.exact) for h in pay.match.headers] == [(":method", "POST")]
    assert pay.route.retry_policy.num_retries.value == 0
    assert general.match.prefix == "/"
    assert general.route.retry_policy.num_retries.value == 2


def test_a_retry_rule_match_narrows_its_policy_conditions(mesh):
    policy = retry_policy(
        100, conditions={"path": "/api/*"}, match={"path": "/api/slow/*"}, maxAttempts=5
    )
    pay, _ = routes_to(state_with(mesh, policies=[policy]), "gateway", "ledger")
    assert pay.match.prefix == "/api/slow/"


def test_a_destination_circuit_breaker_without_max_retries_gets_a_retry_budget(mesh):
    registrations = [instance("ledger", 2)]
    state = mesh(registrations, [sidecar_for(2, policies=[circuit_break_policy()])])
    (thresholds,) = cluster(state, state.services["ledger"]).circuit_breakers.thresholds
    assert thresholds.retry_budget.budget_percent.value == 20.0
    assert thresholds.retry_budget.min_retry_concurrency.value == 3


def test_a_fixed_max_retries_is_kept_instead_of_a_budget(mesh):
    registrations = [instance("ledger", 2)]
    state = mesh(registrations, [sidecar_for(2, policies=[circuit_break_policy(maxRetries=4)])])
    (thresholds,) = cluster(state, state.services["ledger"]).circuit_breakers.thresholds
    assert thresholds.max_retries.value == 4
    assert not thresholds.HasField("retry_budget")


def test_a_retry_rule_that_needs_the_body_is_left_out(mesh):
    policy = retry_policy(100, match={"body": {"kind": "pay"}}, maxAttempts=5)
    state = state_with(mesh, retry_config(maxAttempts=2), policies=[policy])
    assert only_route(state).retry_policy.num_retries.value == 1
