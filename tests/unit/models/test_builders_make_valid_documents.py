"""Every builder in tests/builders.py makes a valid document, so a test that changes one
field of it is testing that field alone; and what a builder leaves out gets the spec's
default.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    MESSAGE_ID,
    SERVICE_ID,
    event,
    health_status,
    load_balancing,
    message,
    message_status,
    monitoring_config,
    registration,
    resource_config,
    route,
    routing,
    security_config,
    security_policy,
    security_rule,
    service_identifier,
    sidecar,
    sidecar_policy,
    subscription,
    traffic_policy,
    traffic_rule,
    with_field,
    without_field,
)
from tests.unit.models.checks import (
    parse_event,
    parse_health_status,
    parse_identifier,
    parse_message,
    parse_message_status,
    parse_registration,
    parse_security_policy,
    parse_sidecar,
    parse_subscription,
    parse_traffic_policy,
)

BUILT = [
    pytest.param(parse_registration, registration, id="registration"),
    pytest.param(parse_identifier, service_identifier, id="service identifier"),
    pytest.param(parse_health_status, health_status, id="health status"),
    pytest.param(parse_sidecar, sidecar, id="sidecar"),
    pytest.param(parse_traffic_policy, traffic_policy, id="traffic policy"),
    pytest.param(parse_security_policy, security_policy, id="security policy"),
    pytest.param(parse_message, message, id="message"),
    pytest.param(parse_message_status, message_status, id="message status"),
    pytest.param(parse_event, event, id="event"),
    pytest.param(parse_subscription, subscription, id="subscription"),
]


@pytest.mark.parametrize(("parse", "build"), BUILT)
def test_each_builder_makes_a_valid_document(parse, build):
    parse(build())


@pytest.mark.parametrize(("parse", "build"), BUILT)
def test_each_builder_makes_a_fresh_document_every_time(parse, build):
    first = build()
    first[next(iter(first))] = "changed"

    parse(build())


@pytest.mark.parametrize(
    "policy_type", ["rate-limit", "circuit-breaker", "retry", "timeout", "auth", "logging"]
)
def test_a_sidecar_policy_of_every_type_is_valid(policy_type):
    parse_sidecar(sidecar(policies=[sidecar_policy(policy_type)]))


@pytest.mark.parametrize("action", ["allow", "deny", "redirect", "mirror", "weighted-split"])
def test_a_traffic_rule_of_every_action_is_valid(action):
    parse_traffic_policy(traffic_policy(rules=[traffic_rule(action)]))


@pytest.mark.parametrize(
    "action", ["allow", "deny", "require-auth", "require-mtls", "require-role"]
)
def test_a_security_rule_of_every_action_is_valid(action):
    parse_security_policy(security_policy(rules=[security_rule(action)]))


def test_a_sidecar_with_every_part_built_is_valid():
    document = sidecar(
        routing=routing(
            routes=[route()],
            loadBalancing=load_balancing(),
            retry={"maxAttempts": 3},
            timeout={"connect": 1000},
        ),
        security=security_config(),
        monitoring=monitoring_config(),
        resources=resource_config(),
    )

    parse_sidecar(document)


def test_with_field_creates_missing_objects_and_leaves_the_original_alone():
    original = registration()

    changed = with_field(original, "endpoint.tls.enabled", True)

    assert changed["endpoint"]["tls"] == {"enabled": True}
    assert "tls" not in original["endpoint"]


def test_without_field_reaches_into_lists_and_leaves_the_original_alone():
    original = sidecar()

    changed = without_field(original, "policies.0.rules.0.action")

    assert "action" not in changed["policies"][0]["rules"][0]
    assert original["policies"][0]["rules"][0]["action"] == "rate-limit"


# Defaults the spec gives, filled into what the builders leave out -----------------------


def test_a_registration_gets_the_spec_defaults():
    model = parse_registration(registration())

    assert model.serviceId == SERVICE_ID
    assert model.ttl == 300
    assert (model.healthCheck.retries, model.healthCheck.successThreshold) == (3, 1)
    assert model.healthCheck.failureThreshold == 3


def test_a_sidecar_policy_gets_the_spec_defaults():
    policy = parse_sidecar(sidecar()).policies[0]

    assert (policy.priority, policy.enabled) == (100, True)


@pytest.mark.parametrize(
    ("parse", "build"),
    [
        pytest.param(parse_traffic_policy, traffic_policy, id="traffic policy"),
        pytest.param(parse_security_policy, security_policy, id="security policy"),
    ],
)
def test_a_mesh_policy_gets_the_spec_defaults(parse, build):
    policy = parse(build())

    assert (policy.priority, policy.enabled, policy.namespace) == (100, True, "default")


def test_a_retry_gets_the_spec_defaults():
    retry = parse_sidecar(sidecar(routing=routing(retry={"maxAttempts": 3}))).routing.retry

    assert (retry.initialDelay, retry.maxDelay, retry.backoffMultiplier) == (1000, 10000, 2.0)
    assert retry.retryableErrors == ["5xx", "timeout", "connection-error"]


def test_a_message_gets_the_spec_defaults():
    model = parse_message(message())

    assert model.messageId == MESSAGE_ID
    assert (model.priority, model.ttl) == ("normal", 3600)


def test_an_event_gets_the_spec_defaults():
    assert parse_event(event()).version == "1.0"


def test_a_subscription_gets_the_spec_defaults():
    model = parse_subscription(subscription())

    assert (model.deliveryMode, model.batchSize) == ("push", 1)
    assert (model.maxRetries, model.retryDelay) == (3, 5000)
