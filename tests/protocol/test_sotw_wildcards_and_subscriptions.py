"""SotW subscriptions: legacy and explicit wildcards, names changing inside ACKs, and named
resources that do not exist yet."""

from __future__ import annotations

from lucid.xds.resources import CLUSTER, ENDPOINT
from tests.protocol.conftest import SotwClient, Xds, names_in, registration

ALL_CLUSTERS = ["inbound|9081", "outbound|audit", "outbound|ledger", "outbound|payments"]


async def test_first_empty_cds_request_is_a_wildcard(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        response = await client.response()
        assert names_in(response) == ALL_CLUSTERS
        assert response.version_info and response.nonce


async def test_legacy_wildcard_survives_acks_with_empty_names(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        await client.ack(await client.response())
        assert await client.barrier() == []
        await xds.register(registration("billing", 9))
        pushed = await client.response()
        assert "outbound|billing" in names_in(pushed)


async def test_empty_names_after_named_ones_unsubscribe_from_everything(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER, ["outbound|ledger"])
        first = await client.response()
        assert names_in(first) == ["outbound|ledger"]
        await client.ack(first, [])
        emptied = await client.response()
        assert names_in(emptied) == []


async def test_an_explicit_star_subscribes_to_everything(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER, ["outbound|ledger"])
        first = await client.response()
        await client.ack(first, ["*"])
        assert names_in(await client.response()) == ALL_CLUSTERS


async def test_names_changed_inside_an_ack_are_answered(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(ENDPOINT, ["outbound|ledger"])
        first = await client.response()
        assert names_in(first) == ["outbound|ledger"]
        await client.ack(first, ["outbound|ledger", "outbound|audit"])
        second = await client.response()
        assert names_in(second) == ["outbound|audit", "outbound|ledger"]
        assert second.version_info != first.version_info


async def test_a_named_resource_that_does_not_exist_is_sent_when_it_appears(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(ENDPOINT, ["outbound|billing"])
        assert await client.barrier() == []
        await xds.register(registration("billing", 9))
        response = await client.response()
        assert response.type_url == ENDPOINT
        assert names_in(response) == ["outbound|billing"]
