"""A registration names its service, endpoint, version and health check; its ttl is 30 to
3600 seconds (300 by default), its metadata is open and its registration time a date-time
with a time zone (spec section 2). Every error is LUCID_ERR_1004.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.builders import registration, with_field, without_field
from tests.unit.models.checks import parse_registration, rejected

INVALID_SERVICE_CONFIGURATION = "LUCID_ERR_1004"

REQUIRED = ["serviceId", "serviceName", "cluster", "plane", "endpoint", "version", "healthCheck"]


@pytest.mark.parametrize("field", REQUIRED)
def test_a_registration_without_a_required_field_is_rejected(field):
    rejected(
        parse_registration,
        without_field(registration(), field),
        code=INVALID_SERVICE_CONFIGURATION,
        path=field,
        value=None,
    )


INVALID_FIELDS = [
    pytest.param("ttl", 29, id="ttl 29"),
    pytest.param("ttl", 3601, id="ttl 3601"),
    pytest.param("ttl", 0, id="ttl 0"),
    pytest.param("ttl", "300", id="ttl given as a string"),
    pytest.param("ttl", 300.5, id="ttl given as a float"),
    pytest.param("metadata", "payments", id="metadata that is not an object"),
    pytest.param("metadata.description", "x" * 501, id="description of 501 characters"),
    pytest.param("metadata.description", 7, id="description given as a number"),
    pytest.param("metadata.tags", "payments", id="tags that are not a list"),
    pytest.param("metadata.tags.0", 1, id="a tag given as a number"),
    pytest.param("metadata.capabilities", "rest", id="capabilities that are not a list"),
    pytest.param("metadata.dependencies.0", None, id="a dependency that is null"),
    pytest.param("registrationTime", "yesterday", id="registrationTime that is not a date"),
    pytest.param("registrationTime", "2025-01-10", id="registrationTime without a time"),
    pytest.param("registrationTime", "2025-01-10T12:00:00", id="registrationTime without a zone"),
    pytest.param("registrationTime", "2025-13-01T00:00:00Z", id="registrationTime in month 13"),
    pytest.param("registrationTime", 1736510400, id="registrationTime given as a number"),
    pytest.param("status", "healthy", id="status owned by the control plane"),
    pytest.param("service_name", "api-gateway", id="unknown field service_name"),
    pytest.param("tags", ["edge"], id="unknown top-level field tags"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_FIELDS)
def test_an_invalid_registration_field_is_rejected_with_its_path(path, value):
    document = registration(metadata={"tags": ["edge"], "dependencies": ["blockchain-core"]})

    rejected(
        parse_registration,
        with_field(document, path, value),
        code=INVALID_SERVICE_CONFIGURATION,
        path=path,
        value=value,
    )


@pytest.mark.parametrize("ttl", [30, 3600])
def test_a_ttl_at_either_end_of_its_range_is_accepted(ttl):
    assert parse_registration(registration(ttl=ttl)).ttl == ttl


def test_a_registration_without_ttl_lives_300_seconds():
    assert parse_registration(registration()).ttl == 300


VALID_TIMES = [
    pytest.param("2025-01-10T12:00:00Z", id="UTC"),
    pytest.param("2025-01-10T12:00:00+01:00", id="an offset"),
    pytest.param("2025-01-10T12:00:00.123456Z", id="microseconds"),
    pytest.param(datetime(2025, 1, 10, 12, tzinfo=UTC), id="a datetime parsed by YAML"),
]


@pytest.mark.parametrize("time", VALID_TIMES)
def test_a_registration_time_with_a_time_zone_is_accepted(time):
    model = parse_registration(registration(registrationTime=time))

    assert model.registrationTime is not None
    assert model.registrationTime.tzinfo is not None


def test_metadata_keeps_fields_the_spec_does_not_name():
    metadata = {
        "description": "Public entry point of the Lucid API",
        "tags": ["edge", "public"],
        "capabilities": ["rest", "websocket"],
        "dependencies": ["blockchain-core", "session-recorder"],
        "owner": "platform-team",
        "sla": {"availability": 99.9},
    }

    model = parse_registration(registration(metadata=metadata))

    assert model.model_dump(mode="json", exclude_none=True)["metadata"] == metadata


def test_a_description_of_500_characters_is_accepted():
    model = parse_registration(registration(metadata={"description": "x" * 500}))

    assert model.metadata is not None
    assert len(model.metadata.description or "") == 500


def test_a_full_registration_of_the_spec_example_is_accepted():
    document = registration(
        instanceId="api-gateway-01",
        endpoint={
            "host": "api-gateway.lucid.onion",
            "port": 8443,
            "protocol": "https",
            "path": "/api/v1",
            "tls": {"enabled": True, "certAuthority": "/etc/lucid/ca.pem"},
        },
        healthCheck={
            "endpoint": "/health",
            "interval": 30,
            "timeout": 10,
            "retries": 3,
            "successThreshold": 1,
            "failureThreshold": 3,
            "httpCheck": {"method": "GET", "headers": {"Accept": "application/json"}},
        },
        metadata={"description": "Public entry point", "tags": ["edge"]},
        registrationTime="2025-01-10T12:00:00Z",
        ttl=600,
    )

    model = parse_registration(document)

    assert model.model_dump(mode="json", exclude_none=True)["endpoint"] == document["endpoint"]
