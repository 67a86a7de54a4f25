"""POST /v1/services: who may register, and the service token that comes back once."""

from __future__ import annotations

import json

from tests import builders
from tests.registry.conftest import OPERATOR, REGISTRAR, bearer, events_of, register


async def test_the_registration_token_registers_and_gets_a_service_token(api, store):
    response = await api.post("/v1/services", json=builders.registration(), headers=REGISTRAR)

    assert response.status_code == 201
    body = response.json()
    assert body["serviceToken"].startswith("lst_")
    assert body["status"]["status"] == "unknown"
    assert body["status"]["lease"]["ttl"] == 300
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["location"] == f"/v1/services/{builders.SERVICE_ID}"
    (event,) = events_of(store, "service.registered")
    assert event["source"] == builders.SERVICE_ID
    assert event["tags"] == {"serviceName": "api-gateway", "cluster": "api-gateway", "plane": "ops"}


async def test_the_token_is_stored_only_as_a_hash_and_never_shown_again(api, store):
    token = await register(api, builders.registration())

    document = store.get(collection="service_registry", key=builders.SERVICE_ID).document
    assert token not in json.dumps(document)
    assert document["lease"]["tokenHash"].startswith("sha256:")
    for path in ("/v1/services", f"/v1/services/{builders.SERVICE_ID}"):
        shown = (await api.get(path)).text
        assert token not in shown
        assert "tokenHash" not in shown and "sha256:" not in shown


async def test_operators_may_register_too(api):
    response = await api.post("/v1/services", json=builders.registration(), headers=OPERATOR)

    assert response.status_code == 201
    assert "serviceToken" in response.json()


async def test_a_service_token_cannot_register_another_instance(api, store):
    token = await register(api, builders.registration())
    other = builders.instance("payments", 2)

    response = await api.post("/v1/services", json=other, headers=bearer(token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "LUCID_ERR_1203"
    assert store.get(collection="service_registry", key=other["serviceId"]) is None


async def test_the_registration_time_is_filled_in_when_missing(api):
    await register(api, builders.registration())

    spec = (await api.get(f"/v1/services/{builders.SERVICE_ID}")).json()["spec"]
    assert spec["registrationTime"].endswith("Z")


async def test_each_registration_gets_its_own_token(api):
    first = await register(api, builders.instance("payments", 1))
    second = await register(api, builders.instance("payments", 2))

    assert first != second
