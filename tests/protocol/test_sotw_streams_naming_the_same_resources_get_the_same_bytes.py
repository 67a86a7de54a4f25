"""SotW responses for a subset of names: sorted, only what exists, and the same resources
and version for every stream that names the same set (one shared subset per view), while
each stream keeps its own nonce."""

from __future__ import annotations

from lucid.xds.resources import ENDPOINT
from tests.protocol.conftest import SotwClient, Xds, names_in, xds_node


async def test_streams_naming_the_same_endpoints_get_one_version_and_their_own_nonces(
    xds: Xds,
) -> None:
    names = ["outbound|missing", "outbound|payments", "outbound|audit"]
    async with xds.channel() as channel:
        first = SotwClient.ads(channel, xds_node("payments-1"))
        second = SotwClient.ads(channel, xds_node("payments-2"))
        await first.request(ENDPOINT, names)
        await second.request(ENDPOINT, list(reversed(names)))
        one, two = await first.response(), await second.response()
        assert names_in(one) == names_in(two) == ["outbound|audit", "outbound|payments"]
        assert one.version_info == two.version_info
        assert list(one.resources) == list(two.resources)
        await second.request(ENDPOINT, names[1:], nonce=two.nonce, version=two.version_info)
        assert await second.barrier() == []  # the same set named again: nothing new
        await first.ack(one, ["outbound|audit"])
        narrowed = await first.response()
        assert names_in(narrowed) == ["outbound|audit"]
        assert narrowed.version_info != one.version_info
