"""List filters: the indexed fields as query parameters, typed, and nothing else."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUTH, error_of
from tests.builders import endpoint, registration, traffic_policy

OTHER_ID = "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
async def mesh(api):
    gateway = registration()
    chain = registration(
        serviceId=OTHER_ID,
        serviceName="blockchain-core",
        cluster="blockchain-core",
        plane="chain",
        endpoint=endpoint(host="blockchain-core.lucid.onion", port=8084),
    )
    for body in (gateway, chain):
        assert (await api.post("/v1/services", json=body, headers=AUTH)).status_code == 201
    policies = [
        traffic_policy(name="on-by-default"),
        traffic_policy(name="switched-off", enabled=False, priority=200),
    ]
    for body in policies:
        assert (await api.post("/v1/trafficpolicies", json=body, headers=AUTH)).status_code == 201


def names(response, field="serviceName"):
    assert response.status_code == 200, response.text
    return [item["spec"][field] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("plane=chain", ["blockchain-core"]),
        ("cluster=api-gateway", ["api-gateway"]),
        ("serviceName=api-gateway&plane=ops", ["api-gateway"]),
        ("status=unknown", ["api-gateway", "blockchain-core"]),
        ("plane=wallet", []),
    ],
)
async def test_services_filter_on_name_cluster_plane_and_status(api, mesh, query, expected):
    assert sorted(names(await api.get(f"/v1/services?{query}"))) == expected


async def test_boolean_filters_are_converted_from_the_query_string(api, mesh):
    off = await api.get("/v1/trafficpolicies?enabled=false")
    on = await api.get("/v1/trafficpolicies?enabled=TRUE")

    assert names(off, "name") == ["switched-off"]
    assert names(on, "name") == ["on-by-default"]


async def test_integer_filters_are_converted_from_the_query_string(api, mesh):
    response = await api.get("/v1/trafficpolicies?priority=200")

    assert names(response, "name") == ["switched-off"]


async def test_a_policy_list_holds_only_its_own_type(api, mesh):
    response = await api.get("/v1/securitypolicies")

    assert response.json()["items"] == []


async def test_an_unknown_filter_is_a_bad_request_naming_the_parameter(api, mesh):
    response = await api.get("/v1/services?planet=ops")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "LUCID_ERR_1004"
    [detail] = error["details"]["errors"]
    assert detail["path"] == "planet"
    assert "serviceName" in detail["rule"]


@pytest.mark.parametrize(
    ("query", "path", "rule"),
    [
        ("enabled=yes", "enabled", "must be true or false"),
        ("priority=high", "priority", "must be an integer"),
        ("priority=1&priority=2", "priority", "is given more than once"),
    ],
)
async def test_a_filter_value_of_the_wrong_type_is_a_bad_request(api, query, path, rule):
    response = await api.get(f"/v1/trafficpolicies?{query}")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "LUCID_ERR_1201"
    assert [(e["path"], e["rule"]) for e in error["details"]["errors"]] == [(path, rule)]
