"""A health check probes a path every 5 to 300 seconds and gives up after 1 to 60 seconds,
which must come before the next probe; it checks over HTTP or gRPC, not both, and sends a
body only with POST (spec section 2, HealthCheckConfig and HealthStatus).
"""

from __future__ import annotations

import pytest

from tests.builders import health_check, health_status, registration, with_field, without_field
from tests.unit.models.checks import parse_health_status, parse_registration, rejected

INVALID_SERVICE_CONFIGURATION = "LUCID_ERR_1004"


def with_check(**overrides):
    return registration(healthCheck=health_check(**overrides))


def rejected_check(document, *, path, value):
    return rejected(
        parse_registration,
        document,
        code=INVALID_SERVICE_CONFIGURATION,
        path=path,
        value=value,
    )


INVALID_FIELDS = [
    pytest.param("endpoint", "health", id="endpoint without a leading slash"),
    pytest.param("endpoint", "/health check", id="endpoint with a space"),
    pytest.param("endpoint", "/health?full=1", id="endpoint with a query"),
    pytest.param("endpoint", "", id="empty endpoint"),
    pytest.param("interval", 4, id="interval 4"),
    pytest.param("interval", 301, id="interval 301"),
    pytest.param("interval", "30", id="interval given as a string"),
    pytest.param("timeout", 0, id="timeout 0"),
    pytest.param("timeout", 61, id="timeout 61"),
    pytest.param("timeout", 2.5, id="timeout given as a float"),
    pytest.param("retries", 0, id="retries 0"),
    pytest.param("retries", 11, id="retries 11"),
    pytest.param("successThreshold", 0, id="successThreshold 0"),
    pytest.param("successThreshold", 11, id="successThreshold 11"),
    pytest.param("failureThreshold", 0, id="failureThreshold 0"),
    pytest.param("failureThreshold", 11, id="failureThreshold 11"),
    pytest.param("httpCheck.method", "PUT", id="httpCheck method PUT"),
    pytest.param("httpCheck.method", "get", id="httpCheck method in lowercase"),
    pytest.param("httpCheck.expectedStatus", [], id="no expected status"),
    pytest.param("httpCheck.expectedStatus", 200, id="expectedStatus that is not a list"),
    pytest.param("httpCheck.expectedStatus.0", 99, id="expected status 99"),
    pytest.param("httpCheck.expectedStatus.0", 600, id="expected status 600"),
    pytest.param("httpCheck.expectedStatus.0", "200", id="expected status given as a string"),
    pytest.param("httpCheck.headers.X-Probe", 1, id="a header value given as a number"),
    pytest.param("httpCheck.url", "/health", id="unknown httpCheck field"),
    pytest.param("grpcCheck.timeout", 0, id="grpcCheck timeout 0"),
    pytest.param("grpcCheck.timeout", 61, id="grpcCheck timeout 61"),
    pytest.param("grpcCheck.service", 5, id="grpcCheck service given as a number"),
    pytest.param("grpcCheck.port", 9090, id="unknown grpcCheck field"),
    pytest.param("path", "/health", id="unknown health check field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_FIELDS)
def test_an_invalid_health_check_field_is_rejected_with_its_path(field, value):
    # A health check that carries either sub-check, so each one's fields can be reached.
    check = health_check(interval=300, timeout=60)
    if field.startswith("grpcCheck"):
        check["grpcCheck"] = {"service": "lucid.health.v1.Health"}
    else:
        check["httpCheck"] = {"method": "GET", "expectedStatus": [200]}

    rejected_check(
        registration(healthCheck=with_field(check, field, value)),
        path=f"healthCheck.{field}",
        value=value,
    )


def test_a_header_name_that_http_does_not_allow_is_rejected():
    headers = {"Bad Header": "yes"}

    rejected_check(
        with_check(httpCheck={"headers": headers}),
        path="healthCheck.httpCheck.headers",
        value=headers,
    )


@pytest.mark.parametrize("field", ["endpoint", "interval", "timeout"])
def test_a_health_check_without_a_required_field_is_rejected(field):
    document = registration(healthCheck=without_field(health_check(), field))

    rejected_check(document, path=f"healthCheck.{field}", value=None)


VALID_EDGES = [
    pytest.param({"interval": 5, "timeout": 4}, id="interval 5 with timeout 4"),
    pytest.param({"interval": 300, "timeout": 60}, id="interval 300 with timeout 60"),
    pytest.param({"timeout": 1}, id="timeout 1"),
    pytest.param({"retries": 1, "successThreshold": 1, "failureThreshold": 1}, id="all 1"),
    pytest.param({"retries": 10, "successThreshold": 10, "failureThreshold": 10}, id="all 10"),
    pytest.param({"endpoint": "/"}, id="endpoint /"),
    pytest.param({"endpoint": "/api/v1/health_check-full"}, id="a long endpoint"),
]


@pytest.mark.parametrize("overrides", VALID_EDGES)
def test_a_health_check_at_the_edges_of_its_ranges_is_accepted(overrides):
    parse_registration(with_check(**overrides))


@pytest.mark.parametrize(
    ("interval", "timeout"),
    [pytest.param(10, 10, id="timeout equal to interval"), pytest.param(10, 20, id="longer")],
)
def test_a_timeout_not_shorter_than_the_interval_is_rejected(interval, timeout):
    error = rejected_check(
        with_check(interval=interval, timeout=timeout), path="healthCheck.timeout", value=timeout
    )
    assert "interval" in error.rule


def test_a_health_check_over_both_http_and_grpc_is_rejected():
    document = with_check(httpCheck={"method": "GET"}, grpcCheck={"service": "lucid.health"})

    rejected_check(document, path="healthCheck.grpcCheck", value=None)


@pytest.mark.parametrize(
    "http_check",
    [
        pytest.param({"method": "GET", "body": "{}"}, id="GET"),
        pytest.param({"method": "HEAD", "body": "{}"}, id="HEAD"),
        pytest.param({"body": "{}"}, id="the default method GET"),
    ],
)
def test_a_body_with_a_method_other_than_post_is_rejected(http_check):
    rejected_check(with_check(httpCheck=http_check), path="healthCheck.httpCheck.body", value="{}")


def test_a_body_with_post_is_accepted():
    model = parse_registration(with_check(httpCheck={"method": "POST", "body": '{"deep": true}'}))

    assert model.healthCheck.httpCheck.body == '{"deep": true}'


def test_a_grpc_timeout_longer_than_the_check_timeout_is_rejected():
    document = with_check(timeout=3, grpcCheck={"service": "lucid.health", "timeout": 4})

    rejected_check(document, path="healthCheck.grpcCheck.timeout", value=4)


def test_a_default_grpc_timeout_longer_than_the_check_timeout_is_reported_as_the_default():
    document = with_check(timeout=3, grpcCheck={"service": "lucid.health"})

    error = rejected_check(document, path="healthCheck.grpcCheck.timeout", value=5)
    assert "default" in error.rule


def test_a_health_check_fills_the_spec_defaults():
    check = parse_registration(registration()).healthCheck

    assert (check.retries, check.successThreshold, check.failureThreshold) == (3, 1, 3)
    assert check.httpCheck is None
    assert check.grpcCheck is None


def test_an_http_check_defaults_to_get_expecting_200():
    check = parse_registration(with_check(httpCheck={})).healthCheck.httpCheck

    assert check.method == "GET"
    assert check.expectedStatus == [200]


def test_a_grpc_check_defaults_to_a_5_second_timeout():
    check = parse_registration(with_check(grpcCheck={"service": "lucid.health"})).healthCheck

    assert check.grpcCheck.timeout == 5


# HealthStatus ---------------------------------------------------------------------------

INVALID_STATUS_FIELDS = [
    pytest.param("status", "up", id="status up"),
    pytest.param("status", "Healthy", id="status in uppercase"),
    pytest.param("timestamp", "yesterday", id="timestamp that is not a date"),
    pytest.param("timestamp", "2025-01-10T12:00:00", id="timestamp without a zone"),
    pytest.param("timestamp", 1736510400, id="timestamp given as a number"),
    pytest.param("lastCheck", "2025-01-10", id="lastCheck without a time"),
    pytest.param("consecutiveFailures", -1, id="consecutiveFailures -1"),
    pytest.param("consecutiveFailures", "1", id="consecutiveFailures given as a string"),
    pytest.param("consecutiveSuccesses", -1, id="consecutiveSuccesses -1"),
    pytest.param("responseTime", -0.5, id="responseTime below 0"),
    pytest.param("responseTime", "12ms", id="responseTime given as a string"),
    pytest.param("error", 500, id="error given as a number"),
    pytest.param("details", "slow", id="details that are not an object"),
    pytest.param("uptime", 3600, id="unknown field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_STATUS_FIELDS)
def test_an_invalid_health_status_field_is_rejected_with_its_path(path, value):
    rejected(
        parse_health_status,
        with_field(health_status(), path, value),
        code=INVALID_SERVICE_CONFIGURATION,
        path=path,
        value=value,
    )


@pytest.mark.parametrize("field", ["status", "timestamp"])
def test_a_health_status_without_a_required_field_is_rejected(field):
    rejected(
        parse_health_status,
        without_field(health_status(), field),
        code=INVALID_SERVICE_CONFIGURATION,
        path=field,
        value=None,
    )


@pytest.mark.parametrize("status", ["healthy", "unhealthy", "unknown", "degraded"])
def test_every_health_status_of_the_spec_is_accepted(status):
    assert parse_health_status(health_status(status=status)).status == status


def test_a_full_health_status_with_open_details_is_accepted():
    document = health_status(
        status="degraded",
        lastCheck="2025-01-10T11:59:30Z",
        consecutiveFailures=0,
        consecutiveSuccesses=12,
        responseTime=0,
        error="slow database",
        details={"database": {"latencyMs": 812}, "checks": ["db", "cache"]},
    )

    model = parse_health_status(document)

    assert model.details == document["details"]
    assert model.responseTime == 0
