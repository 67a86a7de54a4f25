"""A real xDS server for scripted clients: grpc.aio on port 0 over a real SQLite store.

`xds` starts what `lucid serve` starts for xDS (pipeline, events, gRPC server; no CA, so
no secrets) with a short debounce, registers three services, and waits until the
pipeline has translated them. Tests change the mesh through the store (`xds.register`,
`xds.deregister`) and wait for the pipeline to publish, then read what their streams get.
`SotwClient` and `DeltaClient` wrap the generated stubs; every read has a safety timeout
so a broken server fails a test instead of hanging it (no test asserts on timing).
`barrier()` proves that nothing else was queued: it asks for something that is always
answered and returns whatever arrived before that answer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import struct_pb2, symbol_database
from google.rpc import status_pb2

from lucid.models import ServiceRegistration
from lucid.pipeline import DebounceConfig, XdsParts, build_xds
from lucid.resources import Resources
from lucid.store import SQLiteStore, Write
from lucid.translators.mesh import resource_name
from lucid.xds.resources import SECRET, TypeUrl
from lucid.xds.server import XdsOptions
from tests.builders import instance

READ_TIMEOUT = 15.0  # a safety net against hangs, not an assertion
SERVICES = ("payments", "ledger", "audit")


def registration(name: str, number: int, **overrides: Any) -> ServiceRegistration:
    return ServiceRegistration.model_validate(instance(name, number, **overrides))


def xds_node(
    node_id: str = "payments-1", service: str = "payments", **metadata: Any
) -> base_pb2.Node:
    meta = struct_pb2.Struct()
    meta.update({"appPort": 9081, "inboundPort": 9080, **metadata})
    return base_pb2.Node(id=node_id, cluster=service, metadata=meta)


@dataclass
class Xds:
    store: SQLiteStore
    parts: XdsParts
    target: str

    async def settle(self) -> None:
        await asyncio.wait_for(self.parts.pipeline.settled(self.store.revision()), READ_TIMEOUT)

    async def register(self, *registrations: ServiceRegistration) -> None:
        await asyncio.to_thread(Resources(self.store).apply, list(registrations))
        await self.settle()

    async def deregister(self, *service_ids: str) -> None:
        writes = [Write("delete", "service_registry", key) for key in service_ids]
        await asyncio.to_thread(self.store.write, writes=writes)
        await self.settle()

    def channel(self, **options: Any) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(self.target, options=list(options.items()))


async def start_xds(
    tmp_path: Path, options: XdsOptions | None = None, debounce: DebounceConfig | None = None
) -> tuple[Xds, list[Any]]:
    store = SQLiteStore(str(tmp_path / "lucid.db"))
    Resources(store).apply([registration(name, n) for n, name in enumerate(SERVICES, 1)])
    parts = build_xds(
        store,
        options=options or XdsOptions(port=0),
        debounce=debounce or DebounceConfig(quiet=0.01, max_delay=0.1),
    )
    parts.events.flush_interval = 0.01
    tasks = [asyncio.create_task(c.run()) for c in parts.components]
    await parts.server.started()
    xds = Xds(store, parts, f"127.0.0.1:{parts.server.port}")
    await xds.settle()
    return xds, tasks


async def stop_xds(xds: Xds, tasks: list[Any]) -> None:
    for component in xds.parts.components:
        component.stop()
    await asyncio.gather(*tasks)
    xds.store.close()


@pytest.fixture
async def xds(tmp_path: Path) -> AsyncIterator[Xds]:
    started, tasks = await start_xds(tmp_path)
    try:
        yield started
    finally:
        await stop_xds(started, tasks)


def nack_status(message: str = "rejected by the test") -> status_pb2.Status:
    return status_pb2.Status(code=13, message=message)


class SotwClient:
    """One SotW stream: ADS by default, or a per-type `method` of a stub."""

    def __init__(self, call: Any, node: base_pb2.Node | None) -> None:
        self.call = call
        self.node = node

    @classmethod
    def ads(cls, channel: grpc.aio.Channel, node: base_pb2.Node | None = None) -> SotwClient:
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        return cls(stub.StreamAggregatedResources(), node or xds_node())

    async def request(
        self,
        type_url: str,
        names: Sequence[str] = (),
        *,
        nonce: str = "",
        version: str = "",
        error: status_pb2.Status | None = None,
    ) -> None:
        request = discovery_pb2.DiscoveryRequest(
            type_url=type_url,
            resource_names=list(names),
            response_nonce=nonce,
            version_info=version,
        )
        if self.node is not None:
            request.node.CopyFrom(self.node)
            self.node = None  # like Envoy: the node on the first request only
        if error is not None:
            request.error_detail.CopyFrom(error)
        await self.call.write(request)

    async def response(self) -> discovery_pb2.DiscoveryResponse:
        found = await asyncio.wait_for(self.call.read(), READ_TIMEOUT)
        assert found is not grpc.aio.EOF, "the server ended the stream"
        return found

    async def ack(
        self, response: discovery_pb2.DiscoveryResponse, names: Sequence[str] = ()
    ) -> None:
        await self.request(
            response.type_url, names, nonce=response.nonce, version=response.version_info
        )

    async def nack(
        self,
        response: discovery_pb2.DiscoveryResponse,
        names: Sequence[str] = (),
        *,
        last_good: str = "",
    ) -> None:
        await self.request(
            response.type_url, names, nonce=response.nonce, version=last_good, error=nack_status()
        )

    async def barrier(self, type_url: str = SECRET) -> list[discovery_pb2.DiscoveryResponse]:
        """Ask for every secret afresh (always answered, and no test here serves secrets);
        what arrived before that answer."""
        await self.request(type_url, ["*"])
        before = []
        while True:
            got = await self.response()
            if got.type_url == type_url:
                return before
            before.append(got)

    async def close(self) -> None:
        await self.call.done_writing()


_unique = itertools.count(1)


class DeltaClient:
    def __init__(self, call: Any, node: base_pb2.Node | None) -> None:
        self.call = call
        self.node = node

    @classmethod
    def ads(cls, channel: grpc.aio.Channel, node: base_pb2.Node | None = None) -> DeltaClient:
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        return cls(stub.DeltaAggregatedResources(), node or xds_node())

    async def request(
        self,
        type_url: str,
        subscribe: Sequence[str] = (),
        unsubscribe: Sequence[str] = (),
        *,
        nonce: str = "",
        initial: dict[str, str] | None = None,
        error: status_pb2.Status | None = None,
    ) -> None:
        request = discovery_pb2.DeltaDiscoveryRequest(
            type_url=type_url,
            resource_names_subscribe=list(subscribe),
            resource_names_unsubscribe=list(unsubscribe),
            response_nonce=nonce,
            initial_resource_versions=initial or {},
        )
        if self.node is not None:
            request.node.CopyFrom(self.node)
            self.node = None
        if error is not None:
            request.error_detail.CopyFrom(error)
        await self.call.write(request)

    async def response(self) -> discovery_pb2.DeltaDiscoveryResponse:
        found = await asyncio.wait_for(self.call.read(), READ_TIMEOUT)
        assert found is not grpc.aio.EOF, "the server ended the stream"
        return found

    async def ack(self, response: discovery_pb2.DeltaDiscoveryResponse) -> None:
        await self.request(response.type_url, nonce=response.nonce)

    async def barrier(self, type_url: str = SECRET) -> list[discovery_pb2.DeltaDiscoveryResponse]:
        """Subscribe to a name that never exists (always answered as removed)."""
        name = f"barrier-{next(_unique)}"
        await self.request(type_url, [name])
        before = []
        while True:
            got = await self.response()
            if got.type_url == type_url and name in got.removed_resources:
                return before
            before.append(got)


def names_in(
    response: discovery_pb2.DiscoveryResponse | discovery_pb2.DeltaDiscoveryResponse,
) -> list[str]:
    """Names of the resources in a response (SotW: unpacked; delta: the Resource names)."""
    if isinstance(response, discovery_pb2.DeltaDiscoveryResponse):
        return [r.name for r in response.resources]
    out = []
    for any_ in response.resources:
        cls = symbol_database.Default().GetSymbol(any_.type_url.split("/", 1)[1])
        out.append(resource_name(TypeUrl(any_.type_url), cls.FromString(any_.value)))
    return out
