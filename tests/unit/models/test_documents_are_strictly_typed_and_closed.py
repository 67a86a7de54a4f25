"""Documents are strict and closed: a number written as a string (`port: "8080"`) is an
error, not a silent conversion, and an unknown field anywhere is an error, except inside
the objects the spec leaves open (`additionalProperties: true`), whose extra fields are kept.
A document that breaks several rules gets every one of them reported.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    event,
    message,
    policy_rule,
    registration,
    security_policy,
    security_rule,
    sidecar,
    sidecar_policy,
    subscription,
    traffic_policy,
    with_field,
)
from tests.unit.models.checks import (
    errors_of,
    parse_event,
    parse_health_status,
    parse_message,
    parse_registration,
    parse_security_policy,
    parse_sidecar,
    parse_subscription,
    parse_traffic_policy,
    rejected,
)

KINDS = {
    "registration": (parse_registration, registration, "LUCID_ERR_1004"),
    "sidecar": (parse_sidecar, sidecar, "LUCID_ERR_1101"),
    "traffic policy": (parse_traffic_policy, traffic_policy, "LUCID_ERR_1201"),
    "security policy": (parse_security_policy, security_policy, "LUCID_ERR_1102"),
    "subscription": (parse_subscription, subscription, "LUCID_ERR_1302"),
    "message": (parse_message, message, "LUCID_ERR_1301"),
}

LOOSELY_TYPED = [
    pytest.param("registration", "endpoint.port", "8080", id="a port as a string"),
    pytest.param("registration", "ttl", 300.0, id="a ttl as a float"),
    pytest.param("registration", "healthCheck.interval", True, id="an interval as a boolean"),
    pytest.param("registration", "serviceName", 123, id="a name as a number"),
    pytest.param("sidecar", "version", 2, id="a sidecar version as a number"),
    pytest.param("traffic policy", "priority", "100", id="a priority as a string"),
    pytest.param("traffic policy", "enabled", "true", id="enabled as a string"),
    pytest.param("traffic policy", "enabled", 1, id="enabled as a number"),
    pytest.param("security policy", "namespace", None, id="a namespace as null"),
    pytest.param("subscription", "batchSize", "10", id="a batch size as a string"),
    pytest.param("subscription", "maxRetries", 3.0, id="retries as a float"),
    pytest.param("message", "ttl", "3600", id="a message ttl as a string"),
]


@pytest.mark.parametrize(("kind", "path", "value"), LOOSELY_TYPED)
def test_a_value_of_the_wrong_type_is_rejected_not_converted(kind, path, value):
    parse, build, code = KINDS[kind]

    rejected(parse, with_field(build(), path, value), code=code, path=path, value=value)


UNKNOWN_FIELDS = [
    pytest.param(parse_registration, registration(), "owner", "LUCID_ERR_1004",
                 id="at the top of a registration"),
    pytest.param(parse_registration, registration(), "endpoint.weight", "LUCID_ERR_1004",
                 id="in an endpoint"),
    pytest.param(parse_registration, registration(), "healthCheck.grace", "LUCID_ERR_1004",
                 id="in a health check"),
    pytest.param(parse_sidecar, sidecar(), "policies.0.owner", "LUCID_ERR_1102",
                 id="in a sidecar policy"),
    pytest.param(parse_sidecar, sidecar(), "policies.0.rules.0.priority", "LUCID_ERR_1102",
                 id="in a sidecar rule"),
    pytest.param(parse_sidecar, sidecar(), "routing.default", "LUCID_ERR_1103",
                 id="in routing"),
    pytest.param(parse_traffic_policy, traffic_policy(), "rules.0.match.host", "LUCID_ERR_1201",
                 id="in a traffic rule match"),
    pytest.param(parse_security_policy, security_policy(), "rules.0.authentication.jwt.keys",
                 "LUCID_ERR_1102", id="in a jwt block"),
    pytest.param(parse_subscription, subscription(), "topic", "LUCID_ERR_1302",
                 id="at the top of a subscription"),
    pytest.param(parse_message, message(retryPolicy={"maxAttempts": 3}), "retryPolicy.jitter",
                 "LUCID_ERR_1301", id="in a retry policy"),
]  # fmt: skip


@pytest.mark.parametrize(("parse", "document", "path", "code"), UNKNOWN_FIELDS)
def test_an_unknown_field_is_rejected_where_the_spec_closes_the_object(parse, document, path, code):
    error = rejected(parse, with_field(document, path, "x"), code=code, path=path, value="x")

    assert error.rule == "is not a known field"


OPEN_OBJECTS = [
    pytest.param(
        parse_registration, registration(metadata={"owner": "platform", "sla": {"p99": 120}}),
        lambda model: model.model_dump(exclude_none=True)["metadata"],
        {"owner": "platform", "sla": {"p99": 120}},
        id="registration metadata",
    ),
    pytest.param(
        parse_health_status,
        {"status": "healthy", "timestamp": "2025-01-10T12:00:00Z", "details": {"db": "ok"}},
        lambda model: model.details,
        {"db": "ok"},
        id="health status details",
    ),
    pytest.param(
        parse_message, message(payload={"anything": [1, {"goes": True}]}),
        lambda model: model.payload,
        {"anything": [1, {"goes": True}]},
        id="message payload",
    ),
    pytest.param(
        parse_event, event(data={"anything": {"goes": None}}),
        lambda model: model.data,
        {"anything": {"goes": None}},
        id="event data",
    ),
    pytest.param(
        parse_subscription, subscription(filters={"region": "eu", "minAmount": 10}),
        lambda model: model.model_dump(exclude_none=True)["filters"],
        {"region": "eu", "minAmount": 10},
        id="subscription filters",
    ),
    pytest.param(
        parse_sidecar,
        sidecar(policies=[sidecar_policy(rules=[policy_rule(match={"body": {"k": [1]}})])]),
        lambda model: model.policies[0].rules[0].match.body,
        {"k": [1]},
        id="sidecar rule body match",
    ),
    pytest.param(
        parse_security_policy,
        security_policy(rules=[security_rule("require-role", authorization={
            "roles": ["auditor"], "resourceAccess": {"wallets": "read"}})]),
        lambda model: model.rules[0].authorization.resourceAccess,
        {"wallets": "read"},
        id="security rule resource access",
    ),
    pytest.param(
        parse_security_policy,
        security_policy(rules=[security_rule("require-auth", authentication={
            "methods": ["jwt"], "jwt": {"issuer": "lucid", "requiredClaims": {"tier": 2}}})]),
        lambda model: model.rules[0].authentication.jwt.requiredClaims,
        {"tier": 2},
        id="jwt required claims",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("parse", "document", "read", "expected"), OPEN_OBJECTS)
def test_an_open_object_keeps_fields_the_spec_does_not_name(parse, document, read, expected):
    assert read(parse(document)) == expected


def test_every_broken_rule_of_a_document_is_reported_not_just_the_first():
    document = registration(ttl=0, cluster="mars")
    document = with_field(document, "endpoint.port", "8080")
    document = with_field(document, "healthCheck.interval", 301)

    errors = errors_of(parse_registration, document)

    assert sorted(error.path for error in errors) == [
        "cluster",
        "endpoint.port",
        "healthCheck.interval",
        "ttl",
    ]
    assert {error.code.value for error in errors} == {"LUCID_ERR_1004"}


def test_a_sidecar_reports_each_broken_rule_with_the_code_of_its_part():
    document = sidecar(
        policies=[sidecar_policy(priority=0)],
        routing={"defaultRoute": "blockchain-*"},
        security={"mTLS": {"clientCert": "/etc/lucid/cert.pem"}},
        monitoring={"tracing": {"samplingRate": 2}},
    )

    errors = errors_of(parse_sidecar, document)

    assert sorted((error.path, error.code.value) for error in errors) == [
        ("monitoring.tracing.samplingRate", "LUCID_ERR_1101"),
        ("policies.0.priority", "LUCID_ERR_1102"),
        ("routing.defaultRoute", "LUCID_ERR_1103"),
        ("security.mTLS.clientKey", "LUCID_ERR_1204"),
    ]


@pytest.mark.parametrize("document", [None, [], "registration", 42])
def test_a_document_that_is_not_an_object_is_rejected_at_its_root(document):
    rejected(parse_registration, document, code="LUCID_ERR_1004", path="", value=document)
