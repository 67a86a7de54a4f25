"""A malformed or hostile request ends its own stream with a clear gRPC error; other
streams, even on the same connection, go on being served."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

from lucid.xds.resources import CLUSTER, ENDPOINT
from lucid.xds.server import XdsOptions
from tests.protocol.conftest import (
    DeltaClient,
    SotwClient,
    Xds,
    names_in,
    start_xds,
    stop_xds,
    xds_node,
)


async def failure(client: SotwClient | DeltaClient) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.response()
    return caught.value


async def still_served(channel: grpc.aio.Channel) -> None:
    healthy = SotwClient.ads(channel, xds_node("ledger-1", "ledger"))
    await healthy.request(CLUSTER)
    assert "outbound|payments" in names_in(await healthy.response())


async def test_an_unknown_type_url_ends_only_that_stream(xds: Xds) -> None:
    async with xds.channel() as channel:
        bystander = SotwClient.ads(channel)
        await bystander.request(CLUSTER)
        first = await bystander.response()
        bad = SotwClient.ads(channel, xds_node("evil-1", "payments"))
        await bad.request("type.googleapis.com/evil.Thing")
        error = await failure(bad)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "unknown type_url" in (error.details() or "")
        await bystander.ack(first)
        assert await bystander.barrier() == []
        await still_served(channel)


async def test_a_first_request_without_a_node_is_refused(xds: Xds) -> None:
    async with xds.channel() as channel:
        call = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources()
        await call.write(discovery_pb2.DiscoveryRequest(type_url=CLUSTER))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.read()
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "node" in (caught.value.details() or "")
        await still_served(channel)


async def test_a_garbage_node_is_refused_with_the_field_and_the_rule(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = DeltaClient.ads(channel, xds_node(appPort="eighty", plane="moon"))
        await client.request(CLUSTER)
        error = await failure(client)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = error.details() or ""
        assert "LUCID_ERR_1101 node.metadata.appPort" in details
        assert "node.metadata.plane" in details
        await still_served(channel)


async def test_a_node_that_changes_its_id_mid_stream_is_refused(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        await client.response()
        client.node = xds_node("someone-else")
        await client.request(ENDPOINT, ["outbound|ledger"])
        assert (await failure(client)).code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_absurd_name_lists_exhaust_only_their_stream(tmp_path: Path) -> None:
    xds, tasks = await start_xds(tmp_path, XdsOptions(port=0, max_names_per_request=100))
    try:
        async with xds.channel() as channel:
            client = DeltaClient.ads(channel)
            await client.request(ENDPOINT, [f"name-{i}" for i in range(101)])
            error = await failure(client)
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            long_name = SotwClient.ads(channel, xds_node("p-2"))
            await long_name.request(ENDPOINT, ["x" * 5000])
            assert (await failure(long_name)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            await still_served(channel)
    finally:
        await stop_xds(xds, tasks)


async def test_an_oversized_request_is_refused_by_grpc(tmp_path: Path) -> None:
    xds, tasks = await start_xds(tmp_path, XdsOptions(port=0, max_message_bytes=64 * 1024))
    try:
        async with xds.channel() as channel:
            client = SotwClient.ads(channel)
            await client.request(ENDPOINT, ["n" * 1000] * 100)
            assert (await failure(client)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            await still_served(channel)
    finally:
        await stop_xds(xds, tasks)
