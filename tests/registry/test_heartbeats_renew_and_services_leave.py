"""Heartbeats renew a lease, a service deregisters itself, operators may remove any."""

from __future__ import annotations

from tests import builders
from tests.registry.conftest import OPERATOR, bearer, events_of, register


async def test_a_heartbeat_restarts_the_full_ttl(api, registry):
    body = builders.registration(ttl=60)
    token = await register(api, body)
    lease = registry.leases.get(builders.SERVICE_ID)
    assert lease is not None

    response = await api.put(f"/v1/services/{builders.SERVICE_ID}/heartbeat", headers=bearer(token))

    assert response.status_code == 200
    body = response.json()
    assert body["serviceId"] == builders.SERVICE_ID
    assert body["lease"]["ttl"] == 60
    assert 59 <= body["lease"]["remaining"] <= 60
    renewed = registry.leases.get(builders.SERVICE_ID)
    assert renewed is not None and renewed.deadline > lease.deadline


async def test_a_heartbeat_writes_nothing_to_the_store(api, store):
    token = await register(api, builders.registration())
    revision = store.revision()

    await api.put(f"/v1/services/{builders.SERVICE_ID}/heartbeat", headers=bearer(token))

    assert store.revision() == revision


async def test_a_service_deregisters_itself_and_its_token_dies_with_it(api, store, registry):
    token = await register(api, builders.registration())
    path = f"/v1/services/{builders.SERVICE_ID}"

    response = await api.delete(path, headers=bearer(token))

    assert response.status_code == 200
    assert store.get(collection="service_registry", key=builders.SERVICE_ID) is None
    assert len(events_of(store, "service.deregistered")) == 1
    assert registry.leases.get(builders.SERVICE_ID) is None
    again = await api.put(f"{path}/heartbeat", headers=bearer(token))
    assert again.status_code == 401


async def test_an_operator_may_deregister_any_service(api, store):
    await register(api, builders.registration())

    response = await api.delete(f"/v1/services/{builders.SERVICE_ID}", headers=OPERATOR)

    assert response.status_code == 200
    assert store.get(collection="service_registry", key=builders.SERVICE_ID) is None


async def test_deregistering_an_unknown_service_is_1002(api):
    response = await api.delete(f"/v1/services/{builders.numbered_service_id(5)}", headers=OPERATOR)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "LUCID_ERR_1002"


async def test_an_operator_replacing_a_registration_keeps_its_lease_and_token(api, store):
    token = await register(api, builders.registration())
    path = f"/v1/services/{builders.SERVICE_ID}"

    replaced = await api.put(path, json=builders.registration(version="2.0.0"), headers=OPERATOR)
    renewed = await api.put(f"{path}/heartbeat", headers=bearer(token))

    assert replaced.status_code == 200
    assert replaced.json()["spec"]["version"] == "2.0.0"
    assert renewed.status_code == 200
    document = store.get(collection="service_registry", key=builders.SERVICE_ID).document
    assert "tokenHash" in document["lease"]


async def test_only_operators_replace_registrations(api):
    token = await register(api, builders.registration())

    response = await api.put(
        f"/v1/services/{builders.SERVICE_ID}",
        json=builders.registration(version="2.0.0"),
        headers=bearer(token),
    )

    assert response.status_code == 403


async def test_an_operator_declared_registration_has_no_lease(api):
    created = await api.put(
        f"/v1/services/{builders.SERVICE_ID}", json=builders.registration(), headers=OPERATOR
    )

    assert created.status_code == 201
    assert "lease" not in created.json()["status"]
    assert "serviceToken" not in created.json()
