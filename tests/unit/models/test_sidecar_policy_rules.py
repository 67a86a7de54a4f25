"""A sidecar policy has a unique lowercase id of 3 to 50 characters, one of six types, a
priority from 1 to 1000 and rules whose actions fit its type (spec section 3, SidecarPolicy
and PolicyRule, and the Policy Validation rules). Every error is LUCID_ERR_1102.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    policy_rule,
    sidecar,
    sidecar_policy,
    with_field,
    without_field,
)
from tests.unit.models.checks import parse_sidecar, rejected

POLICY_VALIDATION_FAILED = "LUCID_ERR_1102"


def with_policies(*policies):
    return sidecar(policies=list(policies))


def rejected_policy(document, *, path, value):
    return rejected(parse_sidecar, document, code=POLICY_VALIDATION_FAILED, path=path, value=value)


INVALID_POLICY_FIELDS = [
    # policyId: ^[a-z0-9-]+$, 3 to 50 characters
    pytest.param("policyId", "ab", id="policyId of 2 characters"),
    pytest.param("policyId", "a" * 51, id="policyId of 51 characters"),
    pytest.param("policyId", "Rate-Limit", id="policyId in uppercase"),
    pytest.param("policyId", "rate_limit", id="policyId with an underscore"),
    pytest.param("policyId", "rate limit", id="policyId with a space"),
    pytest.param("policyId", "", id="empty policyId"),
    # type: enum
    pytest.param("type", "throttle", id="type throttle"),
    pytest.param("type", "Rate-Limit", id="type in uppercase"),
    pytest.param("type", "circuit-break", id="type named like the rule action"),
    # priority: 1 to 1000
    pytest.param("priority", 0, id="priority 0"),
    pytest.param("priority", 1001, id="priority 1001"),
    pytest.param("priority", "100", id="priority given as a string"),
    pytest.param("priority", 100.0, id="priority given as a float"),
    pytest.param("enabled", "true", id="enabled given as a string"),
    pytest.param("enabled", 1, id="enabled given as a number"),
    pytest.param("rules", "rate-limit", id="rules that are not a list"),
    # conditions
    pytest.param("conditions.source", "cluster:unknown", id="condition source cluster:unknown"),
    pytest.param("conditions.destination", "plane:mars", id="condition destination plane:mars"),
    pytest.param("conditions.path", "api/*", id="condition path without a slash"),
    pytest.param("conditions.path", "/api/*/calls", id="condition path with a middle star"),
    pytest.param("conditions.path", "regex:(", id="condition path with a broken regex"),
    pytest.param("conditions.method", "FETCH", id="condition method FETCH"),
    pytest.param("conditions.method", "get", id="condition method in lowercase"),
    pytest.param("conditions.headers.X-Api-Key", 5, id="condition header value a number"),
    pytest.param("conditions.port", 8080, id="unknown condition"),
    pytest.param("name", "rate-limit-api-calls", id="unknown policy field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_POLICY_FIELDS)
def test_an_invalid_policy_field_is_rejected_with_its_path(field, value):
    document = with_policies(with_field(sidecar_policy(), field, value))

    rejected_policy(document, path=f"policies.0.{field}", value=value)


INVALID_RULE_FIELDS = [
    pytest.param("weight", -1, id="weight -1"),
    pytest.param("weight", 101, id="weight 101"),
    pytest.param("weight", "50", id="weight given as a string"),
    pytest.param("match.method", "FETCH", id="match method FETCH"),
    pytest.param("match.path", "api/v1", id="match path without a slash"),
    pytest.param("match.query.page", 1, id="match query value a number"),
    pytest.param("match.headers.X-Client", ["a"], id="match header value a list"),
    pytest.param("match.cookie", "session", id="unknown match field"),
    pytest.param("params", {"requests": 10}, id="unknown rule field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_RULE_FIELDS)
def test_an_invalid_rule_field_is_rejected_with_its_path(field, value):
    document = with_policies(sidecar_policy(rules=[with_field(policy_rule(), field, value)]))

    rejected_policy(document, path=f"policies.0.rules.0.{field}", value=value)


@pytest.mark.parametrize("action", ["explode", "weighted-split", "require-auth", "ALLOW", ""])
def test_a_rule_with_an_action_sidecars_do_not_know_is_rejected(action):
    document = with_policies(sidecar_policy("logging", rules=[{"action": action}]))

    error = rejected_policy(document, path="policies.0.rules.0.action", value=action)
    assert "unknown action" in error.rule


def test_a_rule_without_an_action_is_rejected():
    rule = without_field(policy_rule("rate-limit"), "action")

    rejected_policy(
        with_policies(sidecar_policy(rules=[rule])), path="policies.0.rules.0.action", value=None
    )


@pytest.mark.parametrize("field", ["policyId", "type", "rules"])
def test_a_policy_without_a_required_field_is_rejected(field):
    document = with_policies(without_field(sidecar_policy(), field))

    rejected_policy(document, path=f"policies.0.{field}", value=None)


MISMATCHED = [
    pytest.param("rate-limit", "retry", id="a retry rule in a rate-limit policy"),
    pytest.param("retry", "timeout", id="a timeout rule in a retry policy"),
    pytest.param("timeout", "retry", id="a retry rule in a timeout policy"),
    pytest.param("circuit-breaker", "rate-limit", id="a rate-limit rule in a circuit-breaker"),
    pytest.param("retry", "allow", id="an allow rule in a retry policy"),
    pytest.param("auth", "rate-limit", id="a rate-limit rule in an auth policy"),
    pytest.param("auth", "mirror", id="a mirror rule in an auth policy"),
]


@pytest.mark.parametrize(("policy_type", "action"), MISMATCHED)
def test_a_rule_whose_action_does_not_fit_the_policy_type_is_rejected(policy_type, action):
    document = with_policies(sidecar_policy(policy_type, rules=[policy_rule(action)]))

    error = rejected_policy(document, path="policies.0.rules.0.action", value=action)
    assert policy_type in error.rule


def test_the_mismatched_rule_is_named_by_its_index():
    rules = [policy_rule("retry"), policy_rule("timeout")]
    document = with_policies(sidecar_policy("retry", rules=rules))

    rejected_policy(document, path="policies.0.rules.1.action", value="timeout")


FITTING = [
    pytest.param("rate-limit", ["rate-limit"], id="rate-limit"),
    pytest.param("circuit-breaker", ["circuit-break"], id="circuit-breaker"),
    pytest.param("retry", ["retry", "retry"], id="retry"),
    pytest.param("timeout", ["timeout"], id="timeout"),
    pytest.param("auth", ["allow", "deny", "redirect"], id="auth"),
    pytest.param("logging", ["allow", "mirror"], id="logging"),
]


@pytest.mark.parametrize(("policy_type", "actions"), FITTING)
def test_rules_whose_actions_fit_the_policy_type_are_accepted(policy_type, actions):
    rules = [policy_rule(action) for action in actions]

    model = parse_sidecar(with_policies(sidecar_policy(policy_type, rules=rules)))

    assert [rule.action for rule in model.policies[0].rules] == actions


def test_two_policies_with_the_same_id_are_rejected():
    document = with_policies(
        sidecar_policy("rate-limit", policyId="api-calls"),
        sidecar_policy("retry"),
        sidecar_policy("timeout", policyId="api-calls"),
    )

    error = rejected_policy(document, path="policies.2.policyId", value="api-calls")
    assert "twice" in error.rule


VALID_POLICIES = [
    pytest.param({"policyId": "abc"}, id="policyId of 3 characters"),
    pytest.param({"policyId": "a" * 50}, id="policyId of 50 characters"),
    pytest.param({"policyId": "rate-limit-api-calls"}, id="the spec example policyId"),
    pytest.param({"priority": 1}, id="priority 1"),
    pytest.param({"priority": 1000}, id="priority 1000"),
    pytest.param({"enabled": False}, id="disabled"),
    pytest.param({"rules": []}, id="no rules"),
    pytest.param(
        {
            "conditions": {
                "source": "api-gateway",
                "destination": "blockchain-*",
                "path": "/api/v1/*",
                "method": "POST",
                "headers": {"X-Api-Key": "present"},
            }
        },
        id="all conditions",
    ),
    pytest.param({"conditions": {"path": "regex:^/api/v[0-9]+/.*$"}}, id="a regex condition"),
]


@pytest.mark.parametrize("overrides", VALID_POLICIES)
def test_a_valid_policy_is_accepted(overrides):
    parse_sidecar(with_policies(sidecar_policy(**overrides)))


@pytest.mark.parametrize("weight", [0, 100])
def test_a_rule_weight_at_either_end_of_its_range_is_accepted(weight):
    document = with_policies(sidecar_policy(rules=[policy_rule(weight=weight)]))

    assert parse_sidecar(document).policies[0].rules[0].weight == weight


def test_a_rule_match_body_is_open():
    body = {"amount": {"gt": 1000}, "currency": "TRX"}
    rule = policy_rule("rate-limit", match={"path": "/api/v1/payments", "body": body})

    model = parse_sidecar(with_policies(sidecar_policy(rules=[rule])))

    assert model.policies[0].rules[0].match.body == body


def test_a_policy_defaults_to_priority_100_and_enabled():
    policy = parse_sidecar(sidecar()).policies[0]

    assert policy.priority == 100
    assert policy.enabled is True


def test_a_sidecar_may_have_no_policies():
    assert parse_sidecar(sidecar(policies=[])).policies == []
