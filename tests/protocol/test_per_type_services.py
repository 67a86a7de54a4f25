"""CDS, EDS, LDS, RDS and SDS each as their own service, SotW and delta, follow the same
rules as ADS: one type per stream, and a request for another type ends that stream."""

from __future__ import annotations

import grpc
import pytest
from envoy.service.cluster.v3 import cds_pb2_grpc
from envoy.service.endpoint.v3 import eds_pb2_grpc
from envoy.service.listener.v3 import lds_pb2_grpc
from envoy.service.route.v3 import rds_pb2_grpc
from envoy.service.secret.v3 import sds_pb2_grpc

from lucid.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET
from tests.protocol.conftest import DeltaClient, SotwClient, Xds, names_in, xds_node

# type → (stub, SotW method, delta method, what to ask for, the names expected back)
SERVICES = {
    CLUSTER: (cds_pb2_grpc.ClusterDiscoveryServiceStub, "StreamClusters", "DeltaClusters", []),
    ENDPOINT: (
        eds_pb2_grpc.EndpointDiscoveryServiceStub,
        "StreamEndpoints",
        "DeltaEndpoints",
        ["outbound|ledger"],
    ),
    LISTENER: (lds_pb2_grpc.ListenerDiscoveryServiceStub, "StreamListeners", "DeltaListeners", []),
    ROUTE: (
        rds_pb2_grpc.RouteDiscoveryServiceStub,
        "StreamRoutes",
        "DeltaRoutes",
        ["routes-out"],
    ),
}


def sotw(channel: grpc.aio.Channel, type_url: str) -> SotwClient:
    stub, method, _, _ = SERVICES[type_url]
    return SotwClient(getattr(stub(channel), method)(), xds_node())


def delta(channel: grpc.aio.Channel, type_url: str) -> DeltaClient:
    stub, _, method, _ = SERVICES[type_url]
    return DeltaClient(getattr(stub(channel), method)(), xds_node())


@pytest.mark.parametrize("type_url", list(SERVICES), ids=["CDS", "EDS", "LDS", "RDS"])
async def test_a_per_type_sotw_stream_serves_its_type(xds: Xds, type_url: str) -> None:
    names = SERVICES[type_url][3]
    async with xds.channel() as channel:
        client = sotw(channel, type_url)
        await client.request(type_url, names)
        response = await client.response()
        assert response.type_url == type_url
        assert names_in(response)
        assert all(n in names_in(response) for n in names)
        await client.ack(response, names)
        # The same stream answers a client starting over, and nothing came in between.
        await client.request(type_url, names)
        again = await client.response()
        assert again.version_info == response.version_info


@pytest.mark.parametrize("type_url", list(SERVICES), ids=["CDS", "EDS", "LDS", "RDS"])
async def test_a_per_type_delta_stream_serves_its_type(xds: Xds, type_url: str) -> None:
    names = SERVICES[type_url][3]
    async with xds.channel() as channel:
        client = delta(channel, type_url)
        await client.request(type_url, names)
        response = await client.response()
        assert response.type_url == type_url
        assert names_in(response)
        await client.ack(response)
        await client.request(type_url, ["no-such-name"])
        removed = await client.response()
        assert list(removed.removed_resources) == ["no-such-name"]


async def test_sds_serves_secrets_per_type_and_reports_unknown_ones_as_removed(xds: Xds) -> None:
    async with xds.channel() as channel:
        stub = sds_pb2_grpc.SecretDiscoveryServiceStub(channel)
        client = DeltaClient(stub.DeltaSecrets(), xds_node())
        await client.request(SECRET, ["lucid-identity"])
        response = await client.response()
        assert response.type_url == SECRET
        assert list(response.removed_resources) == ["lucid-identity"]  # no CA in these tests
        sotw_client = SotwClient(stub.StreamSecrets(), xds_node())
        await sotw_client.request(SECRET, ["*"])
        assert (await sotw_client.response()).type_url == SECRET


async def test_a_per_type_stream_refuses_another_type(xds: Xds) -> None:
    async with xds.channel() as channel:
        client = sotw(channel, CLUSTER)
        await client.request(LISTENER)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.response()
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "CDS stream" in (caught.value.details() or "")
