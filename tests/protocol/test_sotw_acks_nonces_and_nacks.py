"""SotW ACK/NACK: no echo for an ACK, only the newest nonce counts, a NACK is recorded and
the rejected version is not sent again until the configuration changes."""

from __future__ import annotations

from lucid.xds.resources import CLUSTER
from tests.protocol.conftest import SotwClient, Xds, names_in, registration


async def test_an_ack_gets_no_response(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        await client.ack(await client.response())
        assert await client.barrier() == []


async def test_a_request_with_a_stale_nonce_is_ignored(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        first = await client.response()
        await xds.register(registration("billing", 9))
        second = await client.response()
        assert second.nonce != first.nonce
        # Echoing the older nonce with other names must change nothing.
        await client.request(CLUSTER, ["outbound|ledger"], nonce=first.nonce)
        assert await client.barrier() == []
        await client.ack(second)
        assert await client.barrier() == []
        assert "outbound|billing" in names_in(second)


async def test_a_nack_is_recorded_and_the_rejected_version_is_not_resent(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        rejected = await client.response()
        await client.nack(rejected)
        assert await client.barrier() == []
        (stream,) = xds.parts.proxies.of_node("payments-1")
        status = stream.types[CLUSTER]
        assert status.nack is not None
        assert status.nack.version == rejected.version_info
        assert "rejected by the test" in status.nack.error
        assert status.acked_version == ""


async def test_after_a_nack_the_next_configuration_is_pushed_and_acked(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        rejected = await client.response()
        await client.nack(rejected)
        await xds.register(registration("billing", 9))
        fixed = await client.response()
        assert fixed.version_info != rejected.version_info
        await client.ack(fixed)
        assert await client.barrier() == []
        (stream,) = xds.parts.proxies.of_node("payments-1")
        assert stream.types[CLUSTER].nack is None
        assert stream.types[CLUSTER].acked_version == fixed.version_info
