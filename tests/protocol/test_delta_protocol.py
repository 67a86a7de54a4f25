"""Delta xDS over ADS: wildcards, removed_resources for deletions and for names that do
not exist, subscriptions honoured whatever the nonce, initial_resource_versions on
reconnect, NACKs recorded and not answered with the same resources again."""

from __future__ import annotations

from lucid.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE
from tests.protocol.conftest import DeltaClient, Xds, nack_status, names_in, registration

ALL_CLUSTERS = ["inbound|9081", "outbound|audit", "outbound|ledger", "outbound|payments"]


async def test_an_empty_first_cds_subscription_is_a_wildcard_and_acks_get_nothing(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        await client.request(CLUSTER)
        response = await client.response()
        assert sorted(names_in(response)) == ALL_CLUSTERS
        assert all(r.version for r in response.resources)
        await client.ack(response)
        assert await client.barrier() == []


async def test_a_missing_name_is_removed_then_sent_when_it_appears(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        await client.request(ENDPOINT, ["outbound|ledger", "outbound|billing"])
        response = await client.response()
        assert names_in(response) == ["outbound|ledger"]
        assert list(response.removed_resources) == ["outbound|billing"]
        await client.ack(response)
        await xds.register(registration("billing", 9))
        appeared = await client.response()
        assert names_in(appeared) == ["outbound|billing"]
        assert list(appeared.removed_resources) == []


async def test_a_deleted_resource_is_listed_as_removed_after_the_routes_moved(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        for type_url in (CLUSTER, LISTENER):
            await client.request(type_url)
            await client.ack(await client.response())
        await client.request(ROUTE, ["routes-out"])
        await client.ack(await client.response())
        await xds.deregister(registration("audit", 3).serviceId)
        pushed = await client.barrier()
        types = [p.type_url for p in pushed]
        removal = next(p for p in pushed if "outbound|audit" in p.removed_resources)
        assert removal.type_url == CLUSTER
        assert ROUTE in types
        assert types.index(ROUTE) < pushed.index(removal)


async def test_a_stale_nonce_does_not_cancel_a_subscription_change(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        await client.request(ENDPOINT, ["outbound|ledger"])
        first = await client.response()
        await client.ack(first)
        await client.request(ENDPOINT, ["outbound|audit"], nonce="no-such-nonce")
        response = await client.response()
        assert names_in(response) == ["outbound|audit"]


async def test_initial_resource_versions_are_honoured_on_reconnect(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        await client.request(CLUSTER)
        first = await client.response()
        versions = {r.name: r.version for r in first.resources}
    versions["outbound|ledger"] = "stale"
    versions["outbound|gone"] = "1"
    async with xds.channel() as channel:
        again = DeltaClient.ads(channel)
        await again.request(CLUSTER, initial=versions)
        pushed = [await again.response(), *await again.barrier()]
        assert [n for p in pushed for n in names_in(p)] == ["outbound|ledger"]
        assert [n for p in pushed for n in p.removed_resources] == ["outbound|gone"]


async def test_an_unsubscribed_name_is_no_longer_updated(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        await client.request(ENDPOINT, ["outbound|ledger", "outbound|audit"])
        await client.ack(await client.response())
        await client.request(ENDPOINT, unsubscribe=["outbound|ledger"])
        await xds.register(registration("ledger", 8))
        assert await client.barrier() == []


async def test_a_delta_nack_is_recorded_and_the_same_resources_are_not_resent(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel)
        await client.request(CLUSTER)
        rejected = await client.response()
        await client.request(CLUSTER, nonce=rejected.nonce, error=nack_status("bad cluster"))
        assert await client.barrier() == []
        (stream,) = xds.parts.proxies.of_node("payments-1")
        nack = stream.types[CLUSTER].nack
        assert nack is not None and nack.error == "bad cluster"
        assert nack.version == rejected.system_version_info
