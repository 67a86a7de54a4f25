"""The unary Fetch calls of CDS, EDS, LDS, RDS and SDS answer what the first response of a
SotW stream of that type would carry, open no stream, and refuse what a stream refuses."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from envoy.service.cluster.v3 import cds_pb2_grpc
from envoy.service.discovery.v3 import discovery_pb2
from envoy.service.endpoint.v3 import eds_pb2_grpc
from envoy.service.listener.v3 import lds_pb2_grpc
from envoy.service.route.v3 import rds_pb2_grpc
from envoy.service.secret.v3 import sds_pb2_grpc
from google.protobuf import struct_pb2

from lucid.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET
from tests.protocol.conftest import READ_TIMEOUT, SotwClient, Xds, names_in, xds_node

# type → (stub, fetch method, what a stream of that type asks for)
FETCHES: dict[str, tuple[Any, str, list[str]]] = {
    CLUSTER: (cds_pb2_grpc.ClusterDiscoveryServiceStub, "FetchClusters", []),
    ENDPOINT: (eds_pb2_grpc.EndpointDiscoveryServiceStub, "FetchEndpoints", ["outbound|ledger"]),
    LISTENER: (lds_pb2_grpc.ListenerDiscoveryServiceStub, "FetchListeners", []),
    ROUTE: (rds_pb2_grpc.RouteDiscoveryServiceStub, "FetchRoutes", ["routes-out"]),
}


async def fetch(
    channel: grpc.aio.Channel, type_url: str, names: list[str], **fields: Any
) -> discovery_pb2.DiscoveryResponse:
    stub, method, _ = FETCHES.get(type_url, (sds_pb2_grpc.SecretDiscoveryServiceStub, "", []))
    method = method or "FetchSecrets"
    request = discovery_pb2.DiscoveryRequest(
        type_url=type_url, resource_names=names, node=fields.pop("node", xds_node()), **fields
    )
    answer: discovery_pb2.DiscoveryResponse = await getattr(stub(channel), method)(
        request, timeout=READ_TIMEOUT
    )
    return answer


@pytest.mark.parametrize("type_url", list(FETCHES), ids=["CDS", "EDS", "LDS", "RDS"])
async def test_a_fetch_answers_what_a_stream_is_sent_first(xds: Xds, type_url: str) -> None:
    names = FETCHES[type_url][2]
    async with xds.channel() as channel:
        stream = SotwClient.ads(channel, xds_node("payments-2"))
        await stream.request(type_url, names)
        first = await stream.response()
        fetched = await fetch(channel, type_url, names)
        assert fetched.type_url == type_url
        assert names_in(fetched) == names_in(first) and names_in(fetched)
        assert fetched.version_info == first.version_info
        assert list(fetched.resources) == list(first.resources)
        # The fetch (as node payments-1) opened no stream; the stream above is still open.
        assert [s.node.id for s in xds.parts.proxies.streams()] == ["payments-2"]
        await stream.close()


async def test_a_fetch_of_a_new_node_waits_for_its_translation(xds: Xds) -> None:
    async with xds.channel() as channel:
        node = xds_node("audit-7", "audit")  # no stream of this node was ever open
        fetched = await fetch(channel, CLUSTER, [], node=node)
    assert names_in(fetched)


async def test_a_fetch_returns_only_the_named_resources_that_exist(xds: Xds) -> None:
    async with xds.channel() as channel:
        wanted = await fetch(channel, ENDPOINT, ["outbound|ledger", "outbound|nowhere"])
        assert names_in(wanted) == ["outbound|ledger"]
        nothing = await fetch(channel, ROUTE, ["no-such-routes"])
        assert names_in(nothing) == []
        every = await fetch(channel, ENDPOINT, ["*"])
        assert "outbound|ledger" in names_in(every) and len(names_in(every)) > 1
        secrets = await fetch(channel, SECRET, ["lucid-identity"])
        assert names_in(secrets) == []  # no CA in these tests


def _garbage_node() -> Any:
    node = xds_node()
    node.metadata.CopyFrom(struct_pb2.Struct())
    node.metadata.update({"inboundPort": "not a port"})
    return node


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"node": _garbage_node()}, grpc.StatusCode.INVALID_ARGUMENT, "inboundPort"),
        ({"type_url": LISTENER}, grpc.StatusCode.INVALID_ARGUMENT, "CDS fetch"),
        ({"names": ["x"] * 20_001}, grpc.StatusCode.RESOURCE_EXHAUSTED, "20001 names"),
        ({"names": ["x" * 2000]}, grpc.StatusCode.RESOURCE_EXHAUSTED, "over 1024"),
    ],
    ids=["garbage node", "another type", "too many names", "a name too long"],
)
async def test_a_bad_fetch_is_refused_and_the_server_keeps_serving(
    xds: Xds, fields: dict[str, Any], code: grpc.StatusCode, says: str
) -> None:
    async with xds.channel() as channel:
        request: dict[str, Any] = {"type_url": CLUSTER, "names": [], **fields}
        type_url, names = request.pop("type_url"), request.pop("names")
        stub = cds_pb2_grpc.ClusterDiscoveryServiceStub(channel)
        message = discovery_pb2.DiscoveryRequest(
            type_url=type_url, resource_names=names, node=request.pop("node", xds_node())
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.FetchClusters(message, timeout=READ_TIMEOUT)
        assert caught.value.code() == code
        assert says in (caught.value.details() or "")
        assert names_in(await fetch(channel, CLUSTER, []))  # the next one is served


async def test_a_fetch_without_a_node_is_refused(xds: Xds) -> None:
    async with xds.channel() as channel:
        stub = cds_pb2_grpc.ClusterDiscoveryServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.FetchClusters(
                discovery_pb2.DiscoveryRequest(type_url=CLUSTER), timeout=READ_TIMEOUT
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "node" in (caught.value.details() or "")
