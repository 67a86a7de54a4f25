"""What the control plane tells operators about each proxy: CSDS, the proxy views behind
`GET /v1/proxies` and `lucid config-dump`, config.accepted / config.rejected events,
and the Prometheus metrics."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from envoy.admin.v3 import config_dump_shared_pb2 as admin
from envoy.service.status.v3 import csds_pb2, csds_pb2_grpc
from envoy.type.matcher.v3 import node_pb2, string_pb2
from prometheus_client import generate_latest

from lucid.xds.resources import CLUSTER, LISTENER
from lucid.xds.server.views import config_dump, proxies
from tests.protocol.conftest import READ_TIMEOUT, SotwClient, Xds, xds_node


async def acked_cds_nacked_lds(xds: Xds, channel: grpc.aio.Channel) -> SotwClient:
    client = SotwClient.ads(channel)
    await client.request(CLUSTER)
    await client.ack(await client.response())
    await client.request(LISTENER)
    await client.nack(await client.response())
    assert await client.barrier() == []
    return client


async def events_of(xds: Xds, event_type: str) -> list[dict[str, object]]:
    async def found() -> list[dict[str, object]]:
        while True:
            records = xds.store.list(collection="event_stream", where={"eventType": event_type})
            if records:
                return [r.document for r in records]
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(found(), READ_TIMEOUT)


async def test_csds_reports_each_resource_acked_or_nacked_with_the_error(xds: Xds) -> None:
    async with xds.channel() as channel:
        await acked_cds_nacked_lds(xds, channel)
        csds = csds_pb2_grpc.ClientStatusDiscoveryServiceStub(channel)
        response = await csds.FetchClientStatus(csds_pb2.ClientStatusRequest())
        (config,) = response.config
        assert config.node.id == "payments-1"
        by_type: dict[str, set[int]] = {}
        for item in config.generic_xds_configs:
            by_type.setdefault(item.type_url, set()).add(item.client_status)
            assert item.version_info and item.xds_config.type_url == item.type_url
        assert by_type[CLUSTER] == {admin.ACKED}
        assert by_type[LISTENER] == {admin.NACKED}
        nacked = next(c for c in config.generic_xds_configs if c.type_url == LISTENER)
        assert nacked.config_status == csds_pb2.ERROR
        assert nacked.error_state.details == "rejected by the test"


async def test_csds_selects_nodes_by_id_and_refuses_metadata_matchers(xds: Xds) -> None:
    async with xds.channel() as channel:
        await acked_cds_nacked_lds(xds, channel)
        other = SotwClient.ads(channel, xds_node("ledger-1", "ledger"))
        await other.request(CLUSTER)
        await other.response()
        csds = csds_pb2_grpc.ClientStatusDiscoveryServiceStub(channel)
        matcher = node_pb2.NodeMatcher(node_id=string_pb2.StringMatcher(prefix="ledger"))
        request = csds_pb2.ClientStatusRequest(
            node_matchers=[matcher], exclude_resource_contents=True
        )
        (config,) = (await csds.FetchClientStatus(request)).config
        assert config.node.id == "ledger-1"
        assert not any(c.HasField("xds_config") for c in config.generic_xds_configs)
        bad = node_pb2.NodeMatcher()
        bad.node_metadatas.add()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await csds.FetchClientStatus(csds_pb2.ClientStatusRequest(node_matchers=[bad]))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_proxy_views_show_versions_acks_and_the_nack_error(xds: Xds) -> None:
    async with xds.channel() as channel:
        await acked_cds_nacked_lds(xds, channel)
        (proxy,) = proxies(xds.parts.proxies, xds.parts.cache)
        assert proxy["nodeId"] == "payments-1" and proxy["service"] == "payments"
        assert proxy["transport"] == "sotw" and proxy["api"] == "ADS"
        cds, lds = proxy["types"]["CDS"], proxy["types"]["LDS"]
        assert cds["ackedVersion"] == cds["sentVersion"] and cds["inSync"] and cds["nack"] is None
        assert lds["ackedVersion"] is None and not lds["inSync"]
        assert lds["nack"]["error"] == "rejected by the test"
        dump = config_dump(xds.parts.proxies, "payments-1")
        assert dump is not None
        (stream,) = dump["streams"]
        clusters = stream["types"]["CDS"]["resources"]
        assert {c["state"] for c in clusters} == {"ACKED"}
        assert clusters[0]["resource"]["@type"] == CLUSTER
        assert {r["state"] for r in stream["types"]["LDS"]["resources"]} == {"NACKED"}
        assert config_dump(xds.parts.proxies, "nobody") is None


async def test_acks_and_nacks_become_events_in_the_event_stream(xds: Xds) -> None:
    async with xds.channel() as channel:
        await acked_cds_nacked_lds(xds, channel)
        (rejected,) = await events_of(xds, "config.rejected")
        assert rejected["data"]["type"] == "LDS"  # type: ignore[index]
        assert rejected["data"]["error"] == "rejected by the test"  # type: ignore[index]
        assert rejected["tags"]["nodeId"] == "payments-1"  # type: ignore[index]
        accepted = await events_of(xds, "config.accepted")
        assert any(e["data"]["type"] == "CDS" for e in accepted)  # type: ignore[index]


async def test_metrics_count_streams_pushes_acks_and_nacks(xds: Xds) -> None:
    async with xds.channel() as channel:
        await acked_cds_nacked_lds(xds, channel)
        text = generate_latest(xds.parts.metrics.registry).decode()
    assert "lucid_xds_connected_proxies 1.0" in text
    assert 'lucid_xds_nacks_total{type="LDS"} 1.0' in text
    assert 'lucid_xds_acks_total{type="CDS"} 1.0' in text
    assert 'lucid_xds_pushes_total{type="CDS"} 1.0' in text
    assert "lucid_xds_translation_seconds_count" in text
