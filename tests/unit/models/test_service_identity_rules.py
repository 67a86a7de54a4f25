"""A service is named by a UUID, a lowercase name, one of nine clusters and one of three
planes, with a semantic version and an instance id (spec section 1, Service Naming Rules).

ServiceIdentifier and ServiceRegistration share these rules; both report LUCID_ERR_1004.
"""

from __future__ import annotations

import pytest

from tests.builders import registration, service_identifier, with_field, without_field
from tests.unit.models.checks import parse_identifier, parse_registration, rejected

INVALID_SERVICE_CONFIGURATION = "LUCID_ERR_1004"

DOCUMENTS = [
    pytest.param(parse_registration, registration, id="in a registration"),
    pytest.param(parse_identifier, service_identifier, id="in a service identifier"),
]

INVALID_IDENTITIES = [
    # serviceId: format uuid
    pytest.param("serviceId", "not-a-uuid", id="serviceId that is not a uuid"),
    pytest.param("serviceId", "550e8400e29b41d4a716446655440000", id="serviceId without dashes"),
    pytest.param("serviceId", "550e8400-e29b-41d4-a716-44665544000g", id="serviceId with a g"),
    pytest.param("serviceId", "550e8400-e29b-41d4-a716-4466554400", id="serviceId too short"),
    pytest.param(
        "serviceId", "550e8400-e29b-41d4-a716-446655440000\n", id="serviceId with a newline"
    ),
    pytest.param("serviceId", "", id="empty serviceId"),
    pytest.param("serviceId", 42, id="serviceId given as a number"),
    # serviceName: ^[a-z0-9-]+$, 3 to 50 characters
    pytest.param("serviceName", "ab", id="serviceName of 2 characters"),
    pytest.param("serviceName", "a" * 51, id="serviceName of 51 characters"),
    pytest.param("serviceName", "API-Gateway", id="serviceName in uppercase"),
    pytest.param("serviceName", "api_gateway", id="serviceName with an underscore"),
    pytest.param("serviceName", "api gateway", id="serviceName with a space"),
    pytest.param("serviceName", "api.gateway", id="serviceName with a dot"),
    pytest.param("serviceName", "api-gateway\n", id="serviceName with a newline"),
    pytest.param("serviceName", "", id="empty serviceName"),
    pytest.param("serviceName", ["api-gateway"], id="serviceName given as a list"),
    # cluster and plane: enums
    pytest.param("cluster", "mars", id="cluster that is not defined"),
    pytest.param("cluster", "API-Gateway", id="cluster in uppercase"),
    pytest.param("cluster", "tron_payment", id="cluster with an underscore"),
    pytest.param("cluster", "", id="empty cluster"),
    pytest.param("plane", "mars", id="plane that is not defined"),
    pytest.param("plane", "Ops", id="plane in uppercase"),
    pytest.param("plane", "", id="empty plane"),
    # version: semver
    pytest.param("version", "1.0", id="version with two parts"),
    pytest.param("version", "v1.0.0", id="version with a v"),
    pytest.param("version", "1.0.0.0", id="version with four parts"),
    pytest.param("version", "1.0.0-", id="version with an empty pre-release"),
    pytest.param("version", "1.0.0-beta.1", id="version whose pre-release has a dot"),
    pytest.param("version", "1.0.0+build", id="version with build metadata"),
    pytest.param("version", "latest", id="version latest"),
    pytest.param("version", 1, id="version given as a number"),
    # instanceId: ^[a-z0-9-]+$
    pytest.param("instanceId", "API-GATEWAY-01", id="instanceId in uppercase"),
    pytest.param("instanceId", "api_gateway_01", id="instanceId with underscores"),
    pytest.param("instanceId", "api-gateway 01", id="instanceId with a space"),
    pytest.param("instanceId", "", id="empty instanceId"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_IDENTITIES)
@pytest.mark.parametrize(("parse", "build"), DOCUMENTS)
def test_an_invalid_identity_field_is_rejected_with_its_path(parse, build, path, value):
    rejected(
        parse,
        with_field(build(), path, value),
        code=INVALID_SERVICE_CONFIGURATION,
        path=path,
        value=value,
    )


VALID_IDENTITIES = [
    pytest.param("serviceId", "550E8400-E29B-41D4-A716-446655440000", id="uppercase uuid"),
    pytest.param("serviceName", "abc", id="serviceName of 3 characters"),
    pytest.param("serviceName", "a" * 50, id="serviceName of 50 characters"),
    pytest.param("serviceName", "blockchain-core", id="blockchain-core"),
    pytest.param("serviceName", "session-recorder", id="session-recorder"),
    pytest.param("serviceName", "tron-payment-service", id="tron-payment-service"),
    pytest.param("serviceName", "node-2", id="serviceName with a digit"),
    pytest.param("version", "10.20.30", id="version with several digits"),
    pytest.param("version", "1.0.0-rc1", id="version with a pre-release"),
    pytest.param("version", "2.1.0-beta-2", id="version with a dashed pre-release"),
    pytest.param("instanceId", "api-gateway-01", id="instanceId api-gateway-01"),
]


@pytest.mark.parametrize(("path", "value"), VALID_IDENTITIES)
@pytest.mark.parametrize(("parse", "build"), DOCUMENTS)
def test_a_valid_identity_field_is_accepted(parse, build, path, value):
    model = parse(with_field(build(), path, value))

    assert getattr(model, path) == value


CLUSTERS = [
    "api-gateway",
    "blockchain-core",
    "session-management",
    "rdp-services",
    "node-management",
    "admin-interface",
    "tron-payment",
    "storage-database",
    "authentication",
]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_cluster_of_the_spec_is_accepted(cluster):
    assert parse_registration(registration(cluster=cluster)).cluster == cluster


@pytest.mark.parametrize("plane", ["ops", "chain", "wallet"])
def test_every_plane_of_the_spec_is_accepted(plane):
    assert parse_registration(registration(plane=plane)).plane == plane


@pytest.mark.parametrize("field", ["serviceId", "serviceName", "cluster", "plane"])
def test_a_service_identifier_without_a_required_field_is_rejected(field):
    rejected(
        parse_identifier,
        without_field(service_identifier(), field),
        code=INVALID_SERVICE_CONFIGURATION,
        path=field,
        value=None,
    )


def test_a_service_identifier_needs_no_version_or_instance_id():
    identifier = parse_identifier(service_identifier())

    assert identifier.version is None
    assert identifier.instanceId is None


def test_a_service_identifier_with_an_unknown_field_is_rejected():
    rejected(
        parse_identifier,
        service_identifier(name="api-gateway"),
        code=INVALID_SERVICE_CONFIGURATION,
        path="name",
        value="api-gateway",
    )
