"""A source or destination selector is a service name, a glob over names (`blockchain-*`,
`*`), `cluster:<one of the nine clusters>` or `plane:<ops|chain|wallet>`. The same rule
holds in traffic policies (LUCID_ERR_1201), security policies (LUCID_ERR_1102) and the
conditions of sidecar policies (LUCID_ERR_1102).
"""

from __future__ import annotations

import pytest

from tests.builders import security_policy, sidecar, sidecar_policy, traffic_policy
from tests.unit.models.checks import (
    parse_security_policy,
    parse_sidecar,
    parse_traffic_policy,
    rejected,
)


def in_traffic_policy(field, selector):
    return traffic_policy(**{field: selector})


def in_security_policy(field, selector):
    return security_policy(**{field: selector})


def in_sidecar_conditions(field, selector):
    return sidecar(policies=[sidecar_policy(conditions={field: selector})])


PLACES = [
    pytest.param(
        parse_traffic_policy, in_traffic_policy, "source", "source", "LUCID_ERR_1201",
        id="traffic policy source",
    ),
    pytest.param(
        parse_traffic_policy, in_traffic_policy, "destination", "destination", "LUCID_ERR_1201",
        id="traffic policy destination",
    ),
    pytest.param(
        parse_security_policy, in_security_policy, "source", "source", "LUCID_ERR_1102",
        id="security policy source",
    ),
    pytest.param(
        parse_security_policy, in_security_policy, "destination", "destination",
        "LUCID_ERR_1102",
        id="security policy destination",
    ),
    pytest.param(
        parse_sidecar, in_sidecar_conditions, "source", "policies.0.conditions.source",
        "LUCID_ERR_1102",
        id="sidecar condition source",
    ),
    pytest.param(
        parse_sidecar, in_sidecar_conditions, "destination", "policies.0.conditions.destination",
        "LUCID_ERR_1102",
        id="sidecar condition destination",
    ),
]  # fmt: skip

VALID_SELECTORS = [
    pytest.param("api-gateway", id="a service name"),
    pytest.param("tron-payment-service", id="a longer service name"),
    pytest.param("blockchain-*", id="a prefix glob"),
    pytest.param("*-service", id="a suffix glob"),
    pytest.param("*", id="every service"),
    pytest.param("node-?", id="a one-character glob"),
    pytest.param("cluster:tron-payment", id="cluster tron-payment"),
    pytest.param("cluster:api-gateway", id="cluster api-gateway"),
    pytest.param("plane:wallet", id="plane wallet"),
    pytest.param("plane:ops", id="plane ops"),
]

INVALID_SELECTORS = [
    pytest.param("cluster:unknown", id="an unknown cluster"),
    pytest.param("cluster:", id="a cluster without a name"),
    pytest.param("cluster:*", id="a cluster glob"),
    pytest.param("cluster:Tron-Payment", id="an uppercase cluster"),
    pytest.param("plane:mars", id="an unknown plane"),
    pytest.param("plane:", id="a plane without a name"),
    pytest.param("namespace:default", id="an unknown selector prefix"),
    pytest.param("API-Gateway", id="an uppercase name"),
    pytest.param("Blockchain-*", id="an uppercase glob"),
    pytest.param("blockchain_*", id="a glob with an underscore"),
    pytest.param("blockchain.*", id="a glob with a dot"),
    pytest.param("blockchain-[a-z]", id="a glob with a character class"),
    pytest.param("api gateway", id="a name with a space"),
    pytest.param("ab", id="a name of 2 characters"),
    pytest.param("a" * 51, id="a name of 51 characters"),
    pytest.param("api-gateway\n", id="a name with a newline"),
    pytest.param("", id="nothing"),
]


@pytest.mark.parametrize("selector", VALID_SELECTORS)
@pytest.mark.parametrize(("parse", "build", "field", "path", "code"), PLACES)
def test_a_valid_selector_is_accepted(parse, build, field, path, code, selector):
    parse(build(field, selector))


@pytest.mark.parametrize("selector", INVALID_SELECTORS)
@pytest.mark.parametrize(("parse", "build", "field", "path", "code"), PLACES)
def test_an_invalid_selector_is_rejected_with_its_path(parse, build, field, path, code, selector):
    rejected(parse, build(field, selector), code=code, path=path, value=selector)


def test_a_selector_given_as_a_list_is_rejected():
    rejected(
        parse_traffic_policy,
        traffic_policy(source=["api-gateway", "session-recorder"]),
        code="LUCID_ERR_1201",
        path="source",
        value=["api-gateway", "session-recorder"],
    )
