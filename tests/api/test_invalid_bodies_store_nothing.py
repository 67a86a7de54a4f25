"""A body that breaks a rule gets the kind's LUCID code and field path, and stores nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUTH, error_of, stored
from tests.builders import endpoint, manifest, registration, traffic_policy, with_field


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_an_out_of_range_port_names_the_field_and_the_rule(api, store, method):
    body = registration(endpoint=endpoint(port=70000))
    path = "/v1/services" + (f"/{body['serviceId']}" if method == "PUT" else "")

    response = await api.request(method, path, json=body, headers=AUTH)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "LUCID_ERR_1004"
    [detail] = error["details"]["errors"]
    assert (detail["path"], detail["value"]) == ("endpoint.port", 70000)
    assert "65535" in detail["rule"]
    assert stored(store) == 0


async def test_every_broken_rule_is_reported_not_just_the_first(api, store):
    body = with_field(registration(plane="moon"), "healthCheck.interval", 1)

    response = await api.post("/v1/services", json=body, headers=AUTH)

    paths = {e["path"] for e in error_of(response)["details"]["errors"]}
    assert {"plane", "healthCheck.interval"} <= paths
    assert stored(store) == 0


async def test_a_circuit_breaker_error_in_a_policy_has_its_own_code(api, store):
    rule = {
        "action": "weighted-split",
        "parameters": {
            "destinations": [
                {"destination": "blockchain-core", "weight": 60},
                {"destination": "blockchain-core-v2", "weight": 30},
            ]
        },
    }

    response = await api.post(
        "/v1/trafficpolicies", json=traffic_policy(rules=[rule]), headers=AUTH
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "LUCID_ERR_1201"
    assert error["details"]["errors"][0]["path"].startswith("rules.0.parameters")
    assert stored(store) == 0


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"[1, 2", b"\xff\xfe", b'{"port": NaN}'],
    ids=["cut", "empty", "list", "not-utf8", "nan"],
)
async def test_a_body_that_is_not_json_gets_the_kinds_invalid_code(api, store, raw):
    response = await api.post("/v1/services", content=raw, headers=AUTH)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "LUCID_ERR_1004"
    assert error["details"]["errors"][0]["path"] == ""
    assert stored(store) == 0


async def test_a_json_body_that_is_not_an_object_is_invalid(api, store):
    response = await api.post("/v1/trafficpolicies", json=["not", "an", "object"], headers=AUTH)

    assert response.status_code == 422
    assert error_of(response)["code"] == "LUCID_ERR_1201"
    assert stored(store) == 0


async def test_put_refuses_a_body_whose_name_differs_from_the_path(api, store):
    response = await api.put(
        "/v1/trafficpolicies/another-name", json=traffic_policy(), headers=AUTH
    )

    assert response.status_code == 400
    [detail] = error_of(response)["details"]["errors"]
    assert (detail["path"], detail["value"]) == ("name", traffic_policy()["name"])
    assert stored(store) == 0


async def test_a_manifest_of_another_kind_is_refused(api, store):
    response = await api.post(
        "/v1/trafficpolicies", json=manifest("SecurityPolicy", {}), headers=AUTH
    )

    assert response.status_code == 400
    assert error_of(response)["details"]["errors"][0]["path"] == "kind"
    assert stored(store) == 0


async def test_an_oversized_body_is_refused_before_it_is_read(api, store):
    from lucid.api.body import MAX_BODY_BYTES

    response = await api.post("/v1/services", content=b" " * (MAX_BODY_BYTES + 1), headers=AUTH)

    assert response.status_code == 413
    assert stored(store) == 0
