"""A traffic policy has a lowercase name, source and destination selectors, at least one
rule with a traffic action, a priority from 1 to 1000, a namespace (default "default") and
string labels (spec section 4, TrafficPolicy and TrafficRule). Every error is
LUCID_ERR_1201.
"""

from __future__ import annotations

import pytest

from tests.builders import traffic_policy, traffic_rule, with_field, without_field
from tests.unit.models.checks import parse_traffic_policy, rejected

TRAFFIC_POLICY_CREATION_FAILED = "LUCID_ERR_1201"


def rejected_traffic(document, *, path, value):
    return rejected(
        parse_traffic_policy,
        document,
        code=TRAFFIC_POLICY_CREATION_FAILED,
        path=path,
        value=value,
    )


@pytest.mark.parametrize("field", ["name", "source", "destination", "rules"])
def test_a_traffic_policy_without_a_required_field_is_rejected(field):
    rejected_traffic(without_field(traffic_policy(), field), path=field, value=None)


INVALID_FIELDS = [
    pytest.param("name", "API-to-Chain", id="name in uppercase"),
    pytest.param("name", "api_to_chain", id="name with an underscore"),
    pytest.param("name", "api to chain", id="name with a space"),
    pytest.param("name", "", id="empty name"),
    pytest.param("name", "a" * 254, id="name of 254 characters"),
    pytest.param("rules", [], id="no rules"),
    pytest.param("rules", {"action": "allow"}, id="rules that are not a list"),
    pytest.param("priority", 0, id="priority 0"),
    pytest.param("priority", 1001, id="priority 1001"),
    pytest.param("priority", "100", id="priority given as a string"),
    pytest.param("enabled", "yes", id="enabled given as a string"),
    pytest.param("namespace", "Default", id="namespace in uppercase"),
    pytest.param("namespace", "lucid_mesh", id="namespace with an underscore"),
    pytest.param("namespace", "a" * 64, id="namespace of 64 characters"),
    pytest.param("namespace", "", id="empty namespace"),
    pytest.param("labels", "edge", id="labels that are not an object"),
    pytest.param("labels.team", 1, id="a label value given as a number"),
    pytest.param("type", "traffic", id="type owned by the control plane"),
    pytest.param("createdAt", "2025-01-10T12:00:00Z", id="createdAt owned by the control plane"),
    pytest.param("selector", "api-gateway", id="unknown field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_FIELDS)
def test_an_invalid_traffic_policy_field_is_rejected_with_its_path(path, value):
    rejected_traffic(with_field(traffic_policy(), path, value), path=path, value=value)


INVALID_RULE_FIELDS = [
    pytest.param("weight", -1, id="weight -1"),
    pytest.param("weight", 101, id="weight 101"),
    pytest.param("weight", 50.5, id="weight given as a float"),
    pytest.param("match.method", "FETCH", id="match method FETCH"),
    pytest.param("match.path", "api", id="match path without a slash"),
    pytest.param("match.headers.X-Canary", 1, id="match header value a number"),
    pytest.param("match.query.version", 2, id="match query value a number"),
    pytest.param("match.sourceLabels.tier", 1, id="source label value a number"),
    pytest.param("match.destinationLabels.version", 2, id="destination label value a number"),
    pytest.param("match.body", {"amount": 1}, id="a body match, which only sidecars have"),
    pytest.param("priority", 10, id="unknown rule field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_RULE_FIELDS)
def test_an_invalid_traffic_rule_field_is_rejected_with_its_path(path, value):
    document = traffic_policy(rules=[with_field(traffic_rule(), path, value)])

    rejected_traffic(document, path=f"rules.0.{path}", value=value)


SIDECAR_ONLY_ACTIONS = ["rate-limit", "circuit-break", "retry", "timeout"]


@pytest.mark.parametrize("action", [*SIDECAR_ONLY_ACTIONS, "require-auth", "explode", "Allow"])
def test_a_rule_with_an_action_traffic_policies_do_not_know_is_rejected(action):
    error = rejected_traffic(
        traffic_policy(rules=[traffic_rule(), {"action": action}]),
        path="rules.1.action",
        value=action,
    )
    assert "weighted-split" in error.rule


def test_a_traffic_rule_without_an_action_is_rejected():
    rejected_traffic(traffic_policy(rules=[{"weight": 100}]), path="rules.0.action", value=None)


def test_a_traffic_policy_fills_the_spec_defaults():
    policy = parse_traffic_policy(traffic_policy())

    assert policy.priority == 100
    assert policy.enabled is True
    assert policy.namespace == "default"
    assert policy.labels is None


def test_a_full_traffic_policy_of_the_spec_example_is_accepted():
    document = traffic_policy(
        priority=500,
        enabled=False,
        namespace="payments",
        labels={"team": "chain", "tier": "core"},
        rules=[
            traffic_rule(
                "deny",
                match={
                    "path": "/admin/*",
                    "method": "DELETE",
                    "headers": {"X-Debug": "1"},
                    "query": {"dry-run": "true"},
                    "sourceLabels": {"tier": "edge"},
                    "destinationLabels": {"version": "v2"},
                },
            ),
            traffic_rule("weighted-split", weight=100),
            traffic_rule("mirror"),
        ],
    )

    model = parse_traffic_policy(document)

    assert [rule.action for rule in model.rules] == ["deny", "weighted-split", "mirror"]
    assert model.labels == {"team": "chain", "tier": "core"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("priority", 1, id="priority 1"),
        pytest.param("priority", 1000, id="priority 1000"),
        pytest.param("rules.0.weight", 0, id="rule weight 0"),
        pytest.param("rules.0.weight", 100, id="rule weight 100"),
        pytest.param("namespace", "a" * 63, id="namespace of 63 characters"),
        pytest.param("name", "a", id="name of one character"),
    ],
)
def test_a_traffic_policy_at_the_edges_of_its_ranges_is_accepted(path, value):
    parse_traffic_policy(with_field(traffic_policy(), path, value))
