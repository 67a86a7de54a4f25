"""No expiry while the control plane was down: after a restart, every lease starts a full TTL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from lucid.api.app import create_app
from lucid.registry import Registry, RegistryComponent
from lucid.resources import Resources
from lucid.store import Write
from tests import builders
from tests.registry.conftest import REGISTRATION_TOKEN, TOKEN, bearer, register, status_of


async def test_leases_restart_from_the_recovery_time_and_tokens_survive(api, store):
    token = await register(api, builders.registration(ttl=30))
    # The control plane was down for an hour: the last heartbeat it saw is long past.
    record = store.get(collection="service_registry", key=builders.SERVICE_ID)
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    document = {**record.document, "lastHeartbeat": hour_ago}
    store.write(writes=[Write("put", "service_registry", record.key, document)])

    restarted = Registry(store)
    component = RegistryComponent(restarted)
    task = asyncio.create_task(component.run())
    try:
        await asyncio.wait_for(component.started.wait(), 10)
        lease = restarted.leases.get(builders.SERVICE_ID)
        assert lease is not None
        assert restarted.leases.remaining(lease) > 29
        assert status_of(store, builders.SERVICE_ID) == "unknown"

        app = create_app(
            Resources(store), token=TOKEN, registry=restarted, registration_token=REGISTRATION_TOKEN
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lucid.test") as client:
            renewed = await client.put(
                f"/v1/services/{builders.SERVICE_ID}/heartbeat", headers=bearer(token)
            )
        assert renewed.status_code == 200
    finally:
        component.stop()
        await asyncio.wait_for(task, 10)


async def test_an_expired_registration_stays_expired_after_a_restart(api, store):
    await register(api, builders.registration(ttl=30))
    record = store.get(collection="service_registry", key=builders.SERVICE_ID)
    document = {**record.document, "status": "expired"}
    store.write(writes=[Write("put", "service_registry", record.key, document)])

    restarted = Registry(store)
    restarted.adopt(record.key, store.get(collection="service_registry", key=record.key))

    assert restarted.leases.get(builders.SERVICE_ID) is None
    assert status_of(store, builders.SERVICE_ID) == "expired"
