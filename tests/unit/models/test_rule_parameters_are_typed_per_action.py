"""The `parameters` of a rule have a closed schema per action, so a typo or a parameter of
another action is an error rather than a silent no-op: retry takes a RetryConfig, timeout a
TimeoutConfig, circuit-break a CircuitBreakerConfig, rate-limit requests per unit with a
burst, redirect a target, mirror a destination and percentage, weighted-split destinations
with weights summing to 100, allow and deny nothing.

In a sidecar a parameter error is LUCID_ERR_1102, except circuit-break's (LUCID_ERR_1202);
in a traffic policy it is LUCID_ERR_1201.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    policy_rule,
    sidecar,
    sidecar_policy,
    traffic_policy,
    traffic_rule,
    with_field,
    without_field,
)
from tests.unit.models.checks import parse_sidecar, parse_traffic_policy, rejected

POLICY_VALIDATION_FAILED = "LUCID_ERR_1102"
CIRCUIT_BREAKER_CONFIGURATION_INVALID = "LUCID_ERR_1202"
TRAFFIC_POLICY_CREATION_FAILED = "LUCID_ERR_1201"

# The policy type each sidecar rule action can live in.
POLICY_TYPE_OF = {
    "rate-limit": "rate-limit",
    "circuit-break": "circuit-breaker",
    "retry": "retry",
    "timeout": "timeout",
    "allow": "auth",
    "deny": "auth",
    "redirect": "auth",
    "mirror": "logging",
}


def sidecar_with_rule(rule):
    return sidecar(policies=[sidecar_policy(POLICY_TYPE_OF[rule["action"]], rules=[rule])])


def traffic_policy_with_rule(rule):
    return traffic_policy(rules=[rule])


def sidecar_code(action):
    if action == "circuit-break":
        return CIRCUIT_BREAKER_CONFIGURATION_INVALID
    return POLICY_VALIDATION_FAILED


INVALID_SIDECAR_PARAMETERS = [
    # retry -> RetryConfig
    pytest.param("retry", "maxAtempts", 5, id="retry with the typo maxAtempts"),
    pytest.param("retry", "maxAttempts", 11, id="retry maxAttempts 11"),
    pytest.param("retry", "initialDelay", 99, id="retry initialDelay 99"),
    pytest.param("retry", "maxDelay", 60001, id="retry maxDelay 60001"),
    pytest.param("retry", "requests", 100, id="retry with a rate-limit parameter"),
    # timeout -> TimeoutConfig
    pytest.param("timeout", "conect", 500, id="timeout with the typo conect"),
    pytest.param("timeout", "connect", 99, id="timeout connect 99"),
    pytest.param("timeout", "maxAttempts", 3, id="timeout with a retry parameter"),
    # rate-limit -> requests per unit, burst
    pytest.param("rate-limit", "requests", 0, id="rate-limit requests 0"),
    pytest.param("rate-limit", "requests", "100", id="rate-limit requests given as a string"),
    pytest.param("rate-limit", "unit", "day", id="rate-limit per day"),
    pytest.param("rate-limit", "burst", 0, id="rate-limit burst 0"),
    pytest.param("rate-limit", "requestsPerSecond", 10, id="rate-limit with requestsPerSecond"),
    pytest.param("rate-limit", "maxAttempts", 3, id="rate-limit with a retry parameter"),
    # circuit-break -> CircuitBreakerConfig (+ connection-pool thresholds)
    pytest.param("circuit-break", "failureThreshold", 0, id="failureThreshold 0"),
    pytest.param("circuit-break", "failureThreshold", 101, id="failureThreshold 101"),
    pytest.param("circuit-break", "recoveryTimeout", 0, id="recoveryTimeout 0"),
    pytest.param("circuit-break", "recoveryTimeout", 3601, id="recoveryTimeout 3601"),
    pytest.param("circuit-break", "halfOpenMaxCalls", 0, id="halfOpenMaxCalls 0"),
    pytest.param("circuit-break", "halfOpenMaxCalls", 101, id="halfOpenMaxCalls 101"),
    pytest.param("circuit-break", "successThreshold", 0, id="successThreshold 0"),
    pytest.param("circuit-break", "successThreshold", 101, id="successThreshold 101"),
    pytest.param("circuit-break", "timeout", 99, id="circuit timeout 99"),
    pytest.param("circuit-break", "timeout", 30001, id="circuit timeout 30001"),
    pytest.param("circuit-break", "errorTypes", ["5xx", "4xx"], id="an unknown error type"),
    pytest.param("circuit-break", "errorTypes", "5xx", id="errorTypes that are not a list"),
    pytest.param("circuit-break", "maxConnections", 0, id="maxConnections 0"),
    pytest.param("circuit-break", "failureThreshhold", 5, id="the typo failureThreshhold"),
    pytest.param("circuit-break", "maxAttempts", 3, id="circuit-break with a retry parameter"),
    # redirect -> target, statusCode
    pytest.param("redirect", "target", "ftp://files.lucid.onion/", id="an ftp redirect"),
    pytest.param("redirect", "target", "api/v2", id="a redirect to a relative path"),
    pytest.param("redirect", "target", "/api/v2\n", id="a redirect ending in a newline"),
    pytest.param("redirect", "target", "", id="an empty redirect target"),
    pytest.param("redirect", "statusCode", 200, id="redirect status 200"),
    pytest.param("redirect", "statusCode", "301", id="redirect status given as a string"),
    pytest.param("redirect", "url", "/api/v2", id="redirect with url instead of target"),
    # mirror -> destination, percentage
    pytest.param("mirror", "destination", "session-*", id="a mirror to a glob"),
    pytest.param("mirror", "destination", "plane:ops", id="a mirror to a plane"),
    pytest.param("mirror", "percentage", 101, id="mirror percentage 101"),
    pytest.param("mirror", "percentage", -1, id="mirror percentage -1"),
    pytest.param("mirror", "percent", 10, id="mirror with percent instead of percentage"),
    # allow and deny take nothing
    pytest.param("allow", "target", "/api/v2", id="allow with a parameter"),
    pytest.param("deny", "statusCode", 403, id="deny with a parameter"),
]


@pytest.mark.parametrize(("action", "field", "value"), INVALID_SIDECAR_PARAMETERS)
def test_an_invalid_sidecar_rule_parameter_is_rejected_with_its_path(action, field, value):
    rule = with_field(policy_rule(action), f"parameters.{field}", value)

    rejected(
        parse_sidecar,
        sidecar_with_rule(rule),
        code=sidecar_code(action),
        path=f"policies.0.rules.0.parameters.{field}",
        value=value,
    )


REQUIRED_PARAMETERS = [
    pytest.param("retry", "maxAttempts", id="retry without maxAttempts"),
    pytest.param("rate-limit", "requests", id="rate-limit without requests"),
    pytest.param("circuit-break", "failureThreshold", id="circuit-break without failureThreshold"),
    pytest.param("circuit-break", "recoveryTimeout", id="circuit-break without recoveryTimeout"),
    pytest.param("redirect", "target", id="redirect without target"),
    pytest.param("mirror", "destination", id="mirror without destination"),
]


@pytest.mark.parametrize(("action", "field"), REQUIRED_PARAMETERS)
def test_a_rule_without_a_required_parameter_is_rejected(action, field):
    rule = without_field(policy_rule(action), f"parameters.{field}")

    rejected(
        parse_sidecar,
        sidecar_with_rule(rule),
        code=sidecar_code(action),
        path=f"policies.0.rules.0.parameters.{field}",
        value=None,
    )


@pytest.mark.parametrize(
    "action", ["redirect", "mirror", "rate-limit", "circuit-break", "retry", "timeout"]
)
def test_a_rule_whose_action_needs_parameters_is_rejected_without_them(action):
    rule = without_field(policy_rule(action), "parameters")

    rejected(
        parse_sidecar,
        sidecar_with_rule(rule),
        code=sidecar_code(action),
        path="policies.0.rules.0.parameters",
        value=None,
    )


@pytest.mark.parametrize("parameters", ["fast", ["maxAttempts", 3], 3])
def test_parameters_that_are_not_an_object_are_rejected(parameters):
    rule = policy_rule("retry", parameters=parameters)

    rejected(
        parse_sidecar,
        sidecar_with_rule(rule),
        code=POLICY_VALIDATION_FAILED,
        path="policies.0.rules.0.parameters",
        value=parameters,
    )


def test_a_circuit_breaker_error_in_a_later_rule_keeps_its_own_code_and_index():
    breaker = sidecar_policy(
        "circuit-breaker", rules=[policy_rule("circuit-break"), policy_rule("circuit-break")]
    )
    document = sidecar(policies=[sidecar_policy("rate-limit"), breaker])

    rejected(
        parse_sidecar,
        with_field(document, "policies.1.rules.1.parameters.recoveryTimeout", 0),
        code=CIRCUIT_BREAKER_CONFIGURATION_INVALID,
        path="policies.1.rules.1.parameters.recoveryTimeout",
        value=0,
    )


def test_a_circuit_breaker_rule_with_the_wrong_action_is_a_policy_error():
    document = sidecar(policies=[sidecar_policy("circuit-breaker", rules=[policy_rule("retry")])])

    rejected(
        parse_sidecar,
        document,
        code=POLICY_VALIDATION_FAILED,
        path="policies.0.rules.0.action",
        value="retry",
    )


@pytest.mark.parametrize("action", sorted(POLICY_TYPE_OF))
def test_every_sidecar_rule_action_with_its_parameters_is_accepted(action):
    model = parse_sidecar(sidecar_with_rule(policy_rule(action)))

    assert model.policies[0].rules[0].action == action


def test_retry_parameters_fill_the_retry_defaults():
    parameters = parse_sidecar(sidecar_with_rule(policy_rule("retry"))).policies[0].rules[0]

    retry = parameters.parameters
    assert (retry.maxAttempts, retry.initialDelay, retry.maxDelay) == (3, 1000, 10000)
    assert retry.backoffMultiplier == 2.0
    assert retry.retryableErrors == ["5xx", "timeout", "connection-error"]


def test_circuit_break_parameters_fill_the_circuit_breaker_defaults():
    rule = parse_sidecar(sidecar_with_rule(policy_rule("circuit-break"))).policies[0].rules[0]

    breaker = rule.parameters
    assert (breaker.halfOpenMaxCalls, breaker.successThreshold, breaker.timeout) == (3, 3, 5000)
    assert breaker.errorTypes == ["5xx", "timeout", "connection-error"]


def test_rate_limit_parameters_default_to_per_second():
    rule = policy_rule("rate-limit", parameters={"requests": 100, "burst": 200})

    limit = parse_sidecar(sidecar_with_rule(rule)).policies[0].rules[0].parameters

    assert (limit.requests, limit.unit, limit.burst) == (100, "second", 200)


def test_redirect_and_mirror_parameters_fill_their_defaults():
    redirect = policy_rule("redirect", parameters={"target": "https://api.lucid.onion/v2"})
    mirror = policy_rule("mirror", parameters={"destination": "session-recorder"})

    [redirect_rule] = parse_sidecar(sidecar_with_rule(redirect)).policies[0].rules
    [mirror_rule] = parse_sidecar(sidecar_with_rule(mirror)).policies[0].rules

    assert redirect_rule.parameters.statusCode == 302
    assert mirror_rule.parameters.percentage == 100


# Traffic rules ---------------------------------------------------------------------------

INVALID_TRAFFIC_PARAMETERS = [
    pytest.param("redirect", "target", "mailto:ops@lucid.onion", id="a mailto redirect"),
    pytest.param("redirect", "statusCode", 404, id="redirect status 404"),
    pytest.param("mirror", "destination", "*", id="a mirror to every service"),
    pytest.param("mirror", "percentage", 100.5, id="mirror percentage 100.5"),
    pytest.param("mirror", "destinations", [], id="mirror with a weighted-split parameter"),
    pytest.param("weighted-split", "destinations", [], id="a split to no destination"),
    pytest.param("weighted-split", "destinations.0.weight", 101, id="a split weight of 101"),
    pytest.param("weighted-split", "destinations.0.weight", -1, id="a split weight of -1"),
    pytest.param("weighted-split", "destinations.0.destination", "blockchain-*", id="glob split"),
    pytest.param("weighted-split", "destinations.0.service", "x", id="a split typo"),
    pytest.param("weighted-split", "destination", "blockchain-core", id="split to one service"),
    pytest.param("allow", "maxAttempts", 3, id="allow with a parameter"),
]


@pytest.mark.parametrize(("action", "field", "value"), INVALID_TRAFFIC_PARAMETERS)
def test_an_invalid_traffic_rule_parameter_is_rejected_with_its_path(action, field, value):
    rule = with_field(traffic_rule(action), f"parameters.{field}", value)

    rejected(
        parse_traffic_policy,
        traffic_policy_with_rule(rule),
        code=TRAFFIC_POLICY_CREATION_FAILED,
        path=f"rules.0.parameters.{field}",
        value=value,
    )


def split(*destinations):
    return traffic_rule(
        "weighted-split",
        parameters={
            "destinations": [
                {"destination": name, "weight": weight} for name, weight in destinations
            ]
        },
    )


@pytest.mark.parametrize(
    ("destinations", "total"),
    [
        pytest.param([("blockchain-core", 50), ("blockchain-core-canary", 40)], 90, id="90"),
        pytest.param([("blockchain-core", 90), ("blockchain-core-canary", 20)], 110, id="110"),
        pytest.param([("blockchain-core", 0)], 0, id="a single destination weighing 0"),
    ],
)
def test_a_weighted_split_whose_weights_do_not_sum_to_100_is_rejected(destinations, total):
    error = rejected(
        parse_traffic_policy,
        traffic_policy_with_rule(split(*destinations)),
        code=TRAFFIC_POLICY_CREATION_FAILED,
        path="rules.0.parameters.destinations",
        value=total,
    )
    assert "100" in error.rule


def test_a_weighted_split_that_names_a_service_twice_is_rejected():
    rule = split(("blockchain-core", 50), ("blockchain-core-canary", 25), ("blockchain-core", 25))

    rejected(
        parse_traffic_policy,
        traffic_policy_with_rule(rule),
        code=TRAFFIC_POLICY_CREATION_FAILED,
        path="rules.0.parameters.destinations.2.destination",
        value="blockchain-core",
    )


@pytest.mark.parametrize(
    "destinations",
    [
        pytest.param([("blockchain-core", 100)], id="one destination"),
        pytest.param([("blockchain-core", 90), ("blockchain-core-canary", 10)], id="90-10"),
        pytest.param(
            [("blockchain-core", 34), ("blockchain-core-canary", 33), ("blockchain-core-v2", 33)],
            id="three ways",
        ),
    ],
)
def test_a_weighted_split_summing_to_100_over_distinct_services_is_accepted(destinations):
    model = parse_traffic_policy(traffic_policy_with_rule(split(*destinations)))

    assert sum(d.weight for d in model.rules[0].parameters.destinations) == 100


@pytest.mark.parametrize("action", ["redirect", "mirror", "weighted-split"])
def test_a_traffic_rule_whose_action_needs_parameters_is_rejected_without_them(action):
    rejected(
        parse_traffic_policy,
        traffic_policy_with_rule(without_field(traffic_rule(action), "parameters")),
        code=TRAFFIC_POLICY_CREATION_FAILED,
        path="rules.0.parameters",
        value=None,
    )


@pytest.mark.parametrize("action", ["allow", "deny", "redirect", "mirror", "weighted-split"])
def test_every_traffic_rule_action_with_its_parameters_is_accepted(action):
    model = parse_traffic_policy(traffic_policy_with_rule(traffic_rule(action)))

    assert model.rules[0].action == action


@pytest.mark.parametrize("action", ["allow", "deny"])
def test_allow_and_deny_accept_empty_parameters(action):
    rule = traffic_rule(action, parameters={})

    assert parse_traffic_policy(traffic_policy_with_rule(rule)).rules[0].action == action
