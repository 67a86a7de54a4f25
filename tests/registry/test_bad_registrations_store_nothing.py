"""Every invalid field, a duplicate and a foreign token: the right code, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests import builders
from tests.registry.conftest import OPERATOR, REGISTRAR, bearer, register, stored

INVALID: list[tuple[str, Any]] = [
    ("serviceId", "not-a-uuid"),
    ("serviceName", "PAYMENTS"),
    ("serviceName", "ab"),
    ("cluster", "no-such-cluster"),
    ("plane", "moon"),
    ("endpoint.host", "bad host!"),
    ("endpoint.port", 0),
    ("endpoint.port", 65536),
    ("endpoint.protocol", "ftp"),
    ("version", "1.0"),
    ("instanceId", "Not_Valid"),
    ("healthCheck.endpoint", "health"),
    ("healthCheck.interval", 4),
    ("healthCheck.interval", 301),
    ("healthCheck.timeout", 0),
    ("healthCheck.timeout", 61),
    ("healthCheck.retries", 0),
    ("healthCheck.retries", 11),
    ("healthCheck.successThreshold", 0),
    ("healthCheck.successThreshold", 11),
    ("healthCheck.failureThreshold", 0),
    ("healthCheck.failureThreshold", 11),
    ("healthCheck.httpCheck.method", "PUT"),
    ("healthCheck.httpCheck.expectedStatus", [99]),
    ("healthCheck.grpcCheck.timeout", 0),
    ("metadata.description", "x" * 501),
    ("registrationTime", "yesterday"),
    ("ttl", 29),
    ("ttl", 3601),
    ("ttl", "300"),
    ("status", "healthy"),
]


def error_paths(response: Any) -> list[str]:
    return [e["path"] for e in response.json()["error"]["details"]["errors"]]


@pytest.mark.parametrize(("path", "value"), INVALID, ids=[f"{p}={v!r}"[:40] for p, v in INVALID])
async def test_an_invalid_field_is_refused_with_its_path(api, store, path, value):
    body = builders.with_field(builders.registration(), path, value)

    response = await api.post("/v1/services", json=body, headers=REGISTRAR)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "LUCID_ERR_1004"
    assert any(p == path or p.startswith(f"{path}.") for p in error_paths(response))
    assert stored(store) == 0


@pytest.mark.parametrize("field", ["serviceId", "serviceName", "endpoint", "healthCheck"])
async def test_a_missing_required_field_is_refused(api, store, field):
    body = builders.without_field(builders.registration(), field)

    response = await api.post("/v1/services", json=body, headers=REGISTRAR)

    assert response.status_code == 422
    assert field in error_paths(response)
    assert stored(store) == 0


async def test_a_timeout_not_shorter_than_the_interval_is_refused(api, store):
    body = builders.registration(healthCheck=builders.health_check(interval=10, timeout=10))

    response = await api.post("/v1/services", json=body, headers=REGISTRAR)

    assert response.status_code == 422
    assert "healthCheck.timeout" in error_paths(response)
    assert stored(store) == 0


async def test_a_duplicate_serviceid_is_refused_and_the_first_stays(api, store):
    await register(api, builders.registration())
    before = stored(store)

    response = await api.post(
        "/v1/services", json=builders.registration(serviceName="imposter"), headers=REGISTRAR
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "LUCID_ERR_1003"
    assert "serviceToken" not in response.text
    assert stored(store) == before
    spec = (await api.get(f"/v1/services/{builders.SERVICE_ID}")).json()["spec"]
    assert spec["serviceName"] == "api-gateway"


async def test_no_token_or_an_unknown_one_is_401_and_stores_nothing(api, store):
    missing = await api.post("/v1/services", json=builders.registration())
    unknown = await api.post(
        "/v1/services", json=builders.registration(), headers=bearer("lst_guessed")
    )

    assert (missing.status_code, unknown.status_code) == (401, 401)
    assert stored(store) == 0


async def test_a_foreign_service_token_can_neither_renew_nor_deregister(api, store):
    mine = builders.instance("payments", 1)
    theirs = builders.instance("payments", 2)
    my_token = await register(api, mine)
    await register(api, theirs)
    before = [r.document for r in store.list(collection="service_registry")]
    events = stored(store)

    renew = await api.put(f"/v1/services/{theirs['serviceId']}/heartbeat", headers=bearer(my_token))
    delete = await api.delete(f"/v1/services/{theirs['serviceId']}", headers=bearer(my_token))

    assert (renew.status_code, delete.status_code) == (403, 403)
    assert {renew.json()["error"]["code"], delete.json()["error"]["code"]} == {"LUCID_ERR_1203"}
    assert [r.document for r in store.list(collection="service_registry")] == before
    assert stored(store) == events


async def test_operator_and_registration_tokens_are_not_service_tokens(api, store):
    await register(api, builders.registration())
    path = f"/v1/services/{builders.SERVICE_ID}"

    by_operator = await api.put(f"{path}/heartbeat", headers=OPERATOR)
    by_registrar = await api.put(f"{path}/heartbeat", headers=REGISTRAR)
    registrar_delete = await api.delete(path, headers=REGISTRAR)

    assert [r.status_code for r in (by_operator, by_registrar, registrar_delete)] == [403] * 3
    assert store.get(collection="service_registry", key=builders.SERVICE_ID) is not None


async def test_rights_are_checked_before_the_registration_is_looked_up(api):
    token = await register(api, builders.instance("payments", 1))
    nowhere = builders.numbered_service_id(999)

    response = await api.put(f"/v1/services/{nowhere}/heartbeat", headers=bearer(token))

    assert response.status_code == 403
