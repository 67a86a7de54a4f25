"""TTL leases: a lapsed heartbeat expires a registration; a heartbeat or a new POST revives it."""

from __future__ import annotations

import time

import pytest

from lucid.registry import Registry
from tests import builders
from tests.registry.conftest import REGISTRAR, bearer, events_of, register, status_of, wait_for


class Clock:
    """A monotonic clock the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(store, clock) -> Registry:
    return Registry(store, monotonic=clock)


async def test_a_registration_expires_when_its_heartbeats_stop(api, store, running):
    body = builders.registration(ttl=30)
    await register(api, body)

    async def expired() -> bool:
        return status_of(store, builders.SERVICE_ID) == "expired"

    await wait_for(expired, timeout=60, what="expiry after the 30 s ttl")
    (event,) = events_of(store, "service.expired")
    assert event["data"]["ttl"] == 30
    assert event["data"]["previousStatus"] == "unknown"
    view = (await api.get(f"/v1/services/{builders.SERVICE_ID}")).json()
    assert view["status"]["lease"] == {"ttl": 30, "remaining": 0}
    health = (await api.get(f"/v1/services/{builders.SERVICE_ID}/health")).json()
    assert health["status"] == "unknown" and health["details"]["registration"] == "expired"


async def test_a_due_lease_is_expired_once_and_a_renewed_one_is_not(api, store, registry, clock):
    token = await register(api, builders.registration(ttl=30))

    clock.offset += 20
    await api.put(f"/v1/services/{builders.SERVICE_ID}/heartbeat", headers=bearer(token))
    clock.offset += 20
    assert not registry.expire(builders.SERVICE_ID)
    clock.offset += 11

    assert registry.expire(builders.SERVICE_ID)
    assert not registry.expire(builders.SERVICE_ID)
    assert status_of(store, builders.SERVICE_ID) == "expired"
    assert len(events_of(store, "service.expired")) == 1


async def test_a_heartbeat_revives_an_expired_registration(api, store, registry, clock):
    token = await register(api, builders.registration(ttl=30))
    clock.offset += 31
    registry.expire(builders.SERVICE_ID)

    response = await api.put(f"/v1/services/{builders.SERVICE_ID}/heartbeat", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["status"] == "unknown"
    assert response.json()["lease"]["remaining"] > 29
    (event,) = events_of(store, "service.revived")
    assert event["data"]["previousStatus"] == "expired"


async def test_an_expired_service_id_may_register_again_with_a_new_token(
    api, store, registry, clock
):
    old = await register(api, builders.registration(ttl=30))
    clock.offset += 31
    registry.expire(builders.SERVICE_ID)

    response = await api.post("/v1/services", json=builders.registration(), headers=REGISTRAR)

    assert response.status_code == 201
    new = response.json()["serviceToken"]
    assert new != old
    path = f"/v1/services/{builders.SERVICE_ID}/heartbeat"
    assert (await api.put(path, headers=bearer(old))).status_code == 401
    assert (await api.put(path, headers=bearer(new))).status_code == 200
    assert status_of(store, builders.SERVICE_ID) == "unknown"
