"""What a change pushes over SotW ADS: only the types that changed, in CDS → EDS → LDS →
RDS order, clusters dropped only after the routes have moved off them, and nothing at
all when the change alters nothing a proxy receives."""

from __future__ import annotations

import asyncio

from lucid.store import Write
from lucid.xds.resources import ADS_ORDER, CLUSTER, ENDPOINT, LISTENER, ROUTE
from tests.protocol.conftest import SotwClient, Xds, names_in, registration


async def subscribed_to_everything(client: SotwClient) -> dict[str, str]:
    """CDS, EDS (every cluster), LDS and RDS requested and ACKed, like Envoy; versions."""
    versions = {}
    await client.request(CLUSTER)
    clusters = await client.response()
    await client.ack(clusters)
    versions[CLUSTER] = clusters.version_info
    eds = [n for n in names_in(clusters) if n.startswith("outbound|")]
    await client.request(ENDPOINT, eds)
    endpoints = await client.response()
    await client.ack(endpoints, eds)
    versions[ENDPOINT] = endpoints.version_info
    await client.request(LISTENER)
    listeners = await client.response()
    await client.ack(listeners)
    versions[LISTENER] = listeners.version_info
    routes = ["routes-in", "routes-out"]
    await client.request(ROUTE, routes)
    route_configs = await client.response()
    await client.ack(route_configs, routes)
    versions[ROUTE] = route_configs.version_info
    return versions


async def test_a_change_pushes_only_changed_types_in_ads_order(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        versions = await subscribed_to_everything(client)
        await xds.register(registration("billing", 9))
        pushed = await client.barrier()
        types = [p.type_url for p in pushed]
        assert types, "the new service must reach the proxy"
        assert types == sorted(types, key=ADS_ORDER.index)
        for response in pushed:
            assert response.version_info != versions[response.type_url]
        assert "outbound|billing" in names_in(next(p for p in pushed if p.type_url == CLUSTER))


async def test_dropped_clusters_leave_only_after_the_routes_moved_off_them(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await subscribed_to_everything(client)
        ledger_id = registration("ledger", 2).serviceId
        await xds.deregister(ledger_id)
        pushed = await client.barrier()
        types = [p.type_url for p in pushed]
        assert ROUTE in types and types[-1] == CLUSTER
        final = pushed[-1]
        assert "outbound|ledger" not in names_in(final)
        route_at = types.index(ROUTE)
        for earlier in pushed[:route_at]:
            if earlier.type_url == CLUSTER:
                assert "outbound|ledger" in names_in(earlier)


async def test_nothing_is_pushed_when_a_change_alters_nothing_proxies_receive(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await subscribed_to_everything(client)
        rounds = xds.parts.pipeline.rounds
        key = registration("ledger", 2).serviceId
        record = xds.store.get(collection="service_registry", key=key)
        assert record is not None
        heartbeat = {**record.document, "lastHeartbeat": "2030-01-01T00:00:00Z"}
        await asyncio.to_thread(
            xds.store.write, writes=[Write("put", "service_registry", record.key, heartbeat)]
        )
        await xds.settle()
        assert xds.parts.pipeline.rounds > rounds  # the change was translated ...
        assert await client.barrier() == []  # ... and nothing was pushed
