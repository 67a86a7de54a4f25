"""Envoy re-sends the last EDS nonce when a CDS change makes it subscribe to new names:
that request changes the subscription, but it is not a second ACK."""

from __future__ import annotations

from lucid.xds.resources import ENDPOINT
from tests.protocol.conftest import SotwClient, Xds, names_in


async def test_a_second_request_with_an_acked_nonce_only_changes_names(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(ENDPOINT, ["outbound|ledger"])
        first = await client.response()
        await client.ack(first, ["outbound|ledger"])
        await client.ack(first, ["outbound|ledger", "outbound|audit"])
        second = await client.response()
        assert names_in(second) == ["outbound|audit", "outbound|ledger"]
        assert await client.barrier() == []
    acks = xds.parts.metrics.acks.labels("EDS")._value.get()
    assert acks == 1
