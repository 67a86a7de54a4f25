"""Duplicates are 409 with the kind's conflict code; missing resources 404 with its code."""

from __future__ import annotations

import pytest

from lucid.kinds import KINDS
from tests.api.conftest import AUTH, error_of, stored
from tests.builders import registration, security_policy, traffic_policy


async def test_registering_a_service_id_twice_is_a_conflict_with_lucid_err_1003(api, store):
    first = await api.post("/v1/services", json=registration(), headers=AUTH)
    second = await api.post(
        "/v1/services", json=registration(serviceName="other-name"), headers=AUTH
    )

    assert first.status_code == 201
    assert second.status_code == 409
    error = error_of(second)
    assert error["code"] == "LUCID_ERR_1003"
    assert error["details"] == {"kind": "ServiceRegistration", "name": registration()["serviceId"]}
    read = await api.get(f"/v1/services/{registration()['serviceId']}")
    assert read.json()["spec"]["serviceName"] == "api-gateway"
    assert stored(store) == 1


async def test_a_policy_name_taken_by_the_other_policy_type_is_a_conflict(api):
    await api.post("/v1/trafficpolicies", json=traffic_policy(name="shared"), headers=AUTH)

    response = await api.put(
        "/v1/securitypolicies/shared", json=security_policy(name="shared"), headers=AUTH
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "LUCID_ERR_1102"


@pytest.mark.parametrize("kind", [pytest.param(k, id=k.plural) for k in KINDS])
async def test_reading_a_missing_resource_is_not_found_with_the_kinds_code(api, kind):
    response = await api.get(f"/v1/{kind.plural}/does-not-exist")

    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == kind.not_found_code.value
    assert error["details"] == {"kind": kind.name, "name": "does-not-exist"}


async def test_a_missing_service_is_lucid_err_1002(api):
    response = await api.delete("/v1/services/550e8400-e29b-41d4-a716-000000000000", headers=AUTH)

    assert response.status_code == 404
    assert error_of(response)["code"] == "LUCID_ERR_1002"


async def test_a_security_policy_is_not_found_under_traffic_policies(api):
    await api.post("/v1/securitypolicies", json=security_policy(), headers=AUTH)

    response = await api.get(f"/v1/trafficpolicies/{security_policy()['name']}")

    assert response.status_code == 404
