"""Retry, timeout, security, monitoring and resource settings keep to the spec's ranges and
enums, a retry's initial delay does not exceed its maximum, mTLS is not switched off under
an mTLS method, and a resource request stays within its limit (spec section 6).

They are checked inside a sidecar: under `routing` they are LUCID_ERR_1103, under
`security.mTLS` LUCID_ERR_1204, elsewhere LUCID_ERR_1101.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    SERVICE_ID,
    monitoring_config,
    resource_config,
    retry_config,
    routing,
    security_config,
    sidecar,
    timeout_config,
    with_field,
    without_field,
)
from tests.unit.models.checks import parse_sidecar, rejected

SIDECAR_CONFIGURATION_FAILED = "LUCID_ERR_1101"
POLICY_VALIDATION_FAILED = "LUCID_ERR_1102"
ROUTING_CONFIGURATION_INVALID = "LUCID_ERR_1103"
MTLS_CONFIGURATION_FAILED = "LUCID_ERR_1204"


# RetryConfig ------------------------------------------------------------------------------

INVALID_RETRY_FIELDS = [
    pytest.param("maxAttempts", 0, id="maxAttempts 0"),
    pytest.param("maxAttempts", 11, id="maxAttempts 11"),
    pytest.param("maxAttempts", "3", id="maxAttempts given as a string"),
    pytest.param("initialDelay", 99, id="initialDelay 99"),
    pytest.param("initialDelay", 10001, id="initialDelay 10001"),
    pytest.param("maxDelay", 999, id="maxDelay 999"),
    pytest.param("maxDelay", 60001, id="maxDelay 60001"),
    pytest.param("backoffMultiplier", 0.9, id="backoffMultiplier 0.9"),
    pytest.param("backoffMultiplier", 5.1, id="backoffMultiplier 5.1"),
    pytest.param("backoffMultiplier", "2", id="backoffMultiplier given as a string"),
    pytest.param("retryableErrors", ["5xx", "4xx"], id="an unknown retryable error"),
    pytest.param("retryableErrors", "5xx", id="retryableErrors that are not a list"),
    pytest.param("maxAtempts", 3, id="the typo maxAtempts"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_RETRY_FIELDS)
def test_an_invalid_retry_field_is_rejected_with_its_path(field, value):
    document = sidecar(routing=routing(retry=with_field(retry_config(), field, value)))

    rejected(
        parse_sidecar,
        document,
        code=ROUTING_CONFIGURATION_INVALID,
        path=f"routing.retry.{field}",
        value=value,
    )


def test_a_retry_without_max_attempts_is_rejected():
    rejected(
        parse_sidecar,
        sidecar(routing=routing(retry={})),
        code=ROUTING_CONFIGURATION_INVALID,
        path="routing.retry.maxAttempts",
        value=None,
    )


@pytest.mark.parametrize(
    ("initial", "maximum"),
    [
        pytest.param(5000, 2000, id="5000 over 2000"),
        pytest.param(10000, 9999, id="10000 over 9999"),
        pytest.param(2000, 1000, id="2000 over the lowest maxDelay"),
    ],
)
def test_an_initial_delay_above_the_max_delay_is_rejected(initial, maximum):
    retry = retry_config(initialDelay=initial, maxDelay=maximum)

    error = rejected(
        parse_sidecar,
        sidecar(routing=routing(retry=retry)),
        code=ROUTING_CONFIGURATION_INVALID,
        path="routing.retry.initialDelay",
        value=initial,
    )
    assert "maxDelay" in error.rule


def test_an_initial_delay_equal_to_the_default_max_delay_is_accepted():
    # initialDelay may be at most 10000 and maxDelay defaults to 10000: equal is fine.
    assert parse_sidecar(sidecar(routing=routing(retry=retry_config(initialDelay=10000))))


VALID_RETRIES = [
    pytest.param({"maxAttempts": 1}, id="maxAttempts 1"),
    pytest.param({"maxAttempts": 10}, id="maxAttempts 10"),
    pytest.param({"initialDelay": 100, "maxDelay": 1000}, id="the lowest delays"),
    pytest.param({"initialDelay": 10000, "maxDelay": 60000}, id="the highest delays"),
    pytest.param({"initialDelay": 3000, "maxDelay": 3000}, id="equal delays"),
    pytest.param({"backoffMultiplier": 1}, id="backoffMultiplier 1 as an integer"),
    pytest.param({"backoffMultiplier": 5.0}, id="backoffMultiplier 5.0"),
    pytest.param({"retryableErrors": []}, id="no retryable errors"),
    pytest.param(
        {"retryableErrors": ["gateway-error", "reset", "unavailable", "deadline-exceeded"]},
        id="Envoy and gRPC error kinds",
    ),
]


@pytest.mark.parametrize("overrides", VALID_RETRIES)
def test_a_retry_at_the_edges_of_its_ranges_is_accepted(overrides):
    parse_sidecar(sidecar(routing=routing(retry=retry_config(**overrides))))


def test_a_retry_fills_the_spec_defaults():
    retry = parse_sidecar(sidecar(routing=routing(retry=retry_config()))).routing.retry

    assert (retry.initialDelay, retry.maxDelay, retry.backoffMultiplier) == (1000, 10000, 2.0)
    assert retry.retryableErrors == ["5xx", "timeout", "connection-error"]


# TimeoutConfig ----------------------------------------------------------------------------

INVALID_TIMEOUT_FIELDS = [
    pytest.param("connect", 99, id="connect 99"),
    pytest.param("connect", 30001, id="connect 30001"),
    pytest.param("request", 999, id="request 999"),
    pytest.param("request", 300001, id="request 300001"),
    pytest.param("response", 999, id="response 999"),
    pytest.param("response", 300001, id="response 300001"),
    pytest.param("idle", 999, id="idle 999"),
    pytest.param("idle", 300001, id="idle 300001"),
    pytest.param("idle", "60s", id="idle given as a string"),
    pytest.param("read", 1000, id="unknown field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_TIMEOUT_FIELDS)
def test_an_invalid_timeout_field_is_rejected_with_its_path(field, value):
    document = sidecar(routing=routing(timeout=with_field(timeout_config(), field, value)))

    rejected(
        parse_sidecar,
        document,
        code=ROUTING_CONFIGURATION_INVALID,
        path=f"routing.timeout.{field}",
        value=value,
    )


def test_timeouts_at_the_edges_of_their_ranges_are_accepted():
    lowest = {"connect": 100, "request": 1000, "response": 1000, "idle": 1000}
    highest = {"connect": 30000, "request": 300000, "response": 300000, "idle": 300000}

    parse_sidecar(sidecar(routing=routing(timeout=lowest)))
    parse_sidecar(sidecar(routing=routing(timeout=highest)))


def test_an_empty_timeout_fills_the_spec_defaults():
    timeout = parse_sidecar(sidecar(routing=routing(timeout={}))).routing.timeout

    assert (timeout.connect, timeout.request, timeout.response, timeout.idle) == (
        5000,
        30000,
        30000,
        60000,
    )


# SecurityConfig ---------------------------------------------------------------------------

INVALID_SECURITY_FIELDS = [
    pytest.param("mTLS.enabled", "yes", MTLS_CONFIGURATION_FAILED, id="mTLS enabled as a string"),
    pytest.param("mTLS.certAuthority", 1, MTLS_CONFIGURATION_FAILED, id="certAuthority a number"),
    pytest.param("mTLS.verify", True, MTLS_CONFIGURATION_FAILED, id="unknown mTLS field"),
    pytest.param(
        "authentication.methods.0", "oauth2", SIDECAR_CONFIGURATION_FAILED,
        id="method oauth2, which only security policies have",
    ),
    pytest.param(
        "authentication.methods.0", "saml", SIDECAR_CONFIGURATION_FAILED, id="method saml"
    ),
    pytest.param(
        "authentication.required", "true", SIDECAR_CONFIGURATION_FAILED,
        id="required given as a string",
    ),
    pytest.param(
        "authorization.policy", "allow-some", SIDECAR_CONFIGURATION_FAILED,
        id="authorization policy allow-some",
    ),
    pytest.param(
        "authorization.policy", "RBAC", SIDECAR_CONFIGURATION_FAILED,
        id="authorization policy in uppercase",
    ),
    pytest.param(
        "authorization.enabled", 0, SIDECAR_CONFIGURATION_FAILED,
        id="authorization enabled as a number",
    ),
    pytest.param("tls", {"enabled": True}, SIDECAR_CONFIGURATION_FAILED, id="unknown field"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value", "code"), INVALID_SECURITY_FIELDS)
def test_an_invalid_security_field_is_rejected_with_its_code_and_path(field, value, code):
    document = sidecar(security=with_field(security_config(), field, value))

    rejected(parse_sidecar, document, code=code, path=f"security.{field}", value=value)


def test_the_mtls_method_with_mtls_disabled_is_an_mtls_error():
    security = security_config(mTLS={"enabled": False})

    error = rejected(
        parse_sidecar,
        sidecar(security=security),
        code=MTLS_CONFIGURATION_FAILED,
        path="security.mTLS.enabled",
        value=False,
    )
    assert "mtls" in error.rule


def test_a_client_certificate_without_its_key_is_an_mtls_error():
    mtls = {"enabled": True, "clientCert": "/etc/lucid/api-gateway.pem"}

    rejected(
        parse_sidecar,
        sidecar(security=security_config(mTLS=mtls)),
        code=MTLS_CONFIGURATION_FAILED,
        path="security.mTLS.clientKey",
        value=None,
    )


def test_a_client_key_without_its_certificate_is_an_mtls_error():
    mtls = {"enabled": True, "clientKey": "/etc/lucid/api-gateway.key"}

    rejected(
        parse_sidecar,
        sidecar(security=security_config(mTLS=mtls)),
        code=MTLS_CONFIGURATION_FAILED,
        path="security.mTLS.clientCert",
        value=None,
    )


VALID_SECURITY = [
    pytest.param(security_config(), id="mtls on with the mtls method"),
    pytest.param(
        security_config(
            mTLS={
                "enabled": True,
                "certAuthority": "/etc/lucid/ca.pem",
                "clientCert": "/etc/lucid/api-gateway.pem",
                "clientKey": "/etc/lucid/api-gateway.key",
            }
        ),
        id="a client certificate with its key",
    ),
    pytest.param({"authentication": {"methods": ["mtls"]}}, id="the mtls method, mTLS default"),
    pytest.param(
        {"mTLS": {"enabled": False}, "authentication": {"methods": ["jwt", "api-key"]}},
        id="mTLS off without the mtls method",
    ),
    pytest.param({"authorization": {"policy": "allow-all"}}, id="allow-all"),
    pytest.param({"authorization": {"policy": "deny-all"}}, id="deny-all"),
    pytest.param({}, id="nothing"),
]


@pytest.mark.parametrize("security", VALID_SECURITY)
def test_a_valid_security_configuration_is_accepted(security):
    parse_sidecar(sidecar(security=security))


def test_security_settings_fill_the_spec_defaults():
    document = sidecar(security={"mTLS": {}, "authentication": {}, "authorization": {}})

    security = parse_sidecar(document).security

    assert security.mTLS.enabled is True
    assert security.authentication.required is True
    assert (security.authorization.enabled, security.authorization.policy) == (True, "rbac")


# MonitoringConfig -------------------------------------------------------------------------

INVALID_MONITORING_FIELDS = [
    pytest.param("tracing.samplingRate", 1.1, id="samplingRate 1.1"),
    pytest.param("tracing.samplingRate", -0.1, id="samplingRate -0.1"),
    pytest.param("tracing.samplingRate", "0.1", id="samplingRate given as a string"),
    pytest.param("tracing.enabled", "on", id="tracing enabled as a string"),
    pytest.param("logging.level", "trace", id="logging level trace"),
    pytest.param("logging.level", "INFO", id="logging level in uppercase"),
    pytest.param("logging.level", "warning", id="logging level warning"),
    pytest.param("logging.format", "xml", id="logging format xml"),
    pytest.param("logging.format", "JSON", id="logging format in uppercase"),
    pytest.param("metrics.interval", 0, id="metrics interval 0"),
    pytest.param("metrics.interval", "30", id="metrics interval given as a string"),
    pytest.param("metrics.endpoint", 9090, id="metrics endpoint given as a number"),
    pytest.param("metrics.port", 9090, id="unknown metrics field"),
    pytest.param("alerts", {"enabled": True}, id="unknown monitoring field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_MONITORING_FIELDS)
def test_an_invalid_monitoring_field_is_rejected_with_its_path(field, value):
    document = sidecar(monitoring=with_field(monitoring_config(), field, value))

    rejected(
        parse_sidecar,
        document,
        code=SIDECAR_CONFIGURATION_FAILED,
        path=f"monitoring.{field}",
        value=value,
    )


@pytest.mark.parametrize("rate", [0, 0.0, 0.5, 1, 1.0])
def test_a_sampling_rate_from_0_to_1_is_accepted(rate):
    document = sidecar(monitoring={"tracing": {"samplingRate": rate}})

    assert parse_sidecar(document).monitoring.tracing.samplingRate == rate


@pytest.mark.parametrize("level", ["debug", "info", "warn", "error"])
@pytest.mark.parametrize("format", ["json", "text"])
def test_every_logging_level_and_format_of_the_spec_is_accepted(level, format):
    document = sidecar(monitoring={"logging": {"level": level, "format": format}})

    logging = parse_sidecar(document).monitoring.logging

    assert (logging.level, logging.format) == (level, format)


def test_monitoring_fills_the_spec_defaults():
    document = sidecar(monitoring={"metrics": {}, "tracing": {}, "logging": {}})

    monitoring = parse_sidecar(document).monitoring

    assert (monitoring.metrics.enabled, monitoring.metrics.interval) == (True, 30)
    assert (monitoring.tracing.enabled, monitoring.tracing.samplingRate) == (True, 0.1)
    assert (monitoring.logging.enabled, monitoring.logging.level) == (True, "info")
    assert monitoring.logging.format == "json"


# ResourceConfig ---------------------------------------------------------------------------

INVALID_RESOURCE_FIELDS = [
    pytest.param("limits.cpu", "half", id="cpu limit half"),
    pytest.param("limits.cpu", "500 m", id="cpu limit with a space"),
    pytest.param("limits.cpu", 1, id="cpu limit given as a number"),
    pytest.param("limits.memory", "512MB", id="memory limit in MB"),
    pytest.param("limits.memory", "lots", id="memory limit lots"),
    pytest.param("limits.connections", 0, id="connection limit 0"),
    pytest.param("limits.connections", "1000", id="connection limit given as a string"),
    pytest.param("requests.cpu", "-100m", id="a negative cpu request"),
    pytest.param("requests.connections", 0, id="connection request 0"),
    pytest.param("limits.gpu", "1", id="unknown limit"),
    pytest.param("reservations", {}, id="unknown resource field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_RESOURCE_FIELDS)
def test_an_invalid_resource_field_is_rejected_with_its_path(field, value):
    document = sidecar(resources=with_field(resource_config(), field, value))

    rejected(
        parse_sidecar,
        document,
        code=SIDECAR_CONFIGURATION_FAILED,
        path=f"resources.{field}",
        value=value,
    )


REQUESTS_ABOVE_LIMITS = [
    pytest.param("cpu", "500m", "600m", id="600m cpu over 500m"),
    pytest.param("cpu", "500m", "1", id="one cpu over 500m"),
    pytest.param("cpu", "0.5", "501m", id="501m cpu over half a cpu"),
    pytest.param("memory", "512Mi", "1Gi", id="1Gi over 512Mi"),
    pytest.param("memory", "512Mi", "537M", id="537M over 512Mi"),
    pytest.param("connections", 1000, 2000, id="2000 connections over 1000"),
]


@pytest.mark.parametrize(("resource", "limit", "wanted"), REQUESTS_ABOVE_LIMITS)
def test_a_request_above_its_limit_is_rejected(resource, limit, wanted):
    resources = {"limits": {resource: limit}, "requests": {resource: wanted}}

    error = rejected(
        parse_sidecar,
        sidecar(resources=resources),
        code=SIDECAR_CONFIGURATION_FAILED,
        path=f"resources.requests.{resource}",
        value=wanted,
    )
    assert "exceeds" in error.rule


def test_a_default_connection_request_above_a_low_limit_is_reported_as_the_default():
    resources = {"limits": {"connections": 5}, "requests": {"cpu": "100m"}}

    error = rejected(
        parse_sidecar,
        sidecar(resources=resources),
        code=SIDECAR_CONFIGURATION_FAILED,
        path="resources.requests.connections",
        value=10,
    )
    assert "default" in error.rule


VALID_RESOURCES = [
    pytest.param(resource_config(), id="the spec example"),
    pytest.param(
        {
            "limits": {"cpu": "500m", "memory": "512Mi"},
            "requests": {"cpu": "0.5", "memory": "536870912"},
        },
        id="requests equal to limits in other units",
    ),
    pytest.param({"limits": {"cpu": "2", "memory": "1Gi"}}, id="limits alone"),
    pytest.param({"requests": {"cpu": "100m", "memory": "128Mi"}}, id="requests alone"),
    pytest.param({"limits": {"memory": "1G"}, "requests": {"memory": "1000M"}}, id="SI units"),
]


@pytest.mark.parametrize("resources", VALID_RESOURCES)
def test_requests_within_their_limits_are_accepted(resources):
    parse_sidecar(sidecar(resources=resources))


def test_resources_fill_the_spec_connection_defaults():
    resources = parse_sidecar(sidecar(resources={"limits": {}, "requests": {}})).resources

    assert (resources.limits.connections, resources.requests.connections) == (1000, 10)


# The sidecar configuration itself ----------------------------------------------------------

REQUIRED = [
    pytest.param("serviceId", SIDECAR_CONFIGURATION_FAILED, id="serviceId"),
    pytest.param("policies", POLICY_VALIDATION_FAILED, id="policies"),
    pytest.param("routing", ROUTING_CONFIGURATION_INVALID, id="routing"),
]


@pytest.mark.parametrize(("field", "code"), REQUIRED)
def test_a_sidecar_without_a_required_field_is_rejected_with_the_code_of_its_part(field, code):
    rejected(parse_sidecar, without_field(sidecar(), field), code=code, path=field, value=None)


INVALID_SIDECAR_FIELDS = [
    pytest.param("serviceId", "api-gateway", id="serviceId that is not a uuid"),
    pytest.param("version", 1, id="version given as a number"),
    pytest.param("lastUpdated", "2025-01-10", id="lastUpdated without a time"),
    pytest.param("lastUpdated", 1736510400, id="lastUpdated given as a number"),
    pytest.param("serviceName", "api-gateway", id="unknown field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_SIDECAR_FIELDS)
def test_an_invalid_sidecar_field_is_rejected_with_its_path(field, value):
    rejected(
        parse_sidecar,
        with_field(sidecar(), field, value),
        code=SIDECAR_CONFIGURATION_FAILED,
        path=field,
        value=value,
    )


def test_policies_given_as_an_object_are_a_policy_error():
    rejected(
        parse_sidecar,
        sidecar(policies={"policyId": "rate-limit-api-calls"}),
        code=POLICY_VALIDATION_FAILED,
        path="policies",
        value={"policyId": "rate-limit-api-calls"},
    )


def test_a_full_sidecar_configuration_is_accepted():
    document = sidecar(
        security=security_config(),
        monitoring=monitoring_config(),
        resources=resource_config(),
        version="2025.01.10-1",
        lastUpdated="2025-01-10T12:00:00Z",
    )

    model = parse_sidecar(document)

    assert model.serviceId == SERVICE_ID
    assert model.resources.limits.memory == "512Mi"
