"""The gRPC servicers: ADS (SotW and delta) and the per-type CDS/EDS/LDS/RDS/SDS services.

They are thin on purpose: each RPC creates a session (`sotw.py` / `delta.py`), feeds it
the requests from a reader task, and writes whatever the session has ready; the per-type
services' unary `Fetch*` calls are answered by `fetch.py`, with no session. Protocol
errors end only their own stream, with the status code chosen here, the one place that
maps them. Responses are pre-assembled bytes (`lucid.xds.cache.wire`), so the handlers
are registered with no response serializer; request parsing is the generated classes'.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from envoy.service.discovery.v3 import discovery_pb2

from lucid.xds.cache import ConfigWatcher
from lucid.xds.resources import CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, TypeUrl
from lucid.xds.server.delta import DeltaSession
from lucid.xds.server.fetch import fetch
from lucid.xds.server.options import XdsOptions
from lucid.xds.server.session import ProtocolError, Session
from lucid.xds.server.sotw import SotwSession
from lucid.xds.server.status import ProxyRegistry

log = logging.getLogger(__name__)

STATUS_OF: dict[str, grpc.StatusCode] = {
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
    "limit": grpc.StatusCode.RESOURCE_EXHAUSTED,
}

# service name → (type it serves, SotW method, delta method); None = aggregated
SERVICES: dict[str, tuple[TypeUrl | None, str, str]] = {
    "envoy.service.discovery.v3.AggregatedDiscoveryService": (
        None,
        "StreamAggregatedResources",
        "DeltaAggregatedResources",
    ),
    "envoy.service.cluster.v3.ClusterDiscoveryService": (
        CLUSTER,
        "StreamClusters",
        "DeltaClusters",
    ),
    "envoy.service.endpoint.v3.EndpointDiscoveryService": (
        ENDPOINT,
        "StreamEndpoints",
        "DeltaEndpoints",
    ),
    "envoy.service.listener.v3.ListenerDiscoveryService": (
        LISTENER,
        "StreamListeners",
        "DeltaListeners",
    ),
    "envoy.service.route.v3.RouteDiscoveryService": (ROUTE, "StreamRoutes", "DeltaRoutes"),
    "envoy.service.secret.v3.SecretDiscoveryService": (SECRET, "StreamSecrets", "DeltaSecrets"),
}

Handler = Callable[[AsyncIterator[Any], grpc.aio.ServicerContext[Any, Any]], Awaitable[None]]


class DiscoveryServices:
    """Builds the generic handlers of every discovery service over one watcher."""

    def __init__(
        self,
        watcher: ConfigWatcher,
        registry: ProxyRegistry,
        options: XdsOptions,
        *,
        control_plane: bytes = b"",
    ) -> None:
        self.watcher = watcher
        self.registry = registry
        self.options = options
        self.control_plane = control_plane

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        out: list[grpc.GenericRpcHandler] = []
        for service, (fixed, sotw_method, delta_method) in SERVICES.items():
            methods = {
                sotw_method: grpc.stream_stream_rpc_method_handler(
                    self._handler(SotwSession, fixed),
                    request_deserializer=discovery_pb2.DiscoveryRequest.FromString,
                    response_serializer=None,
                ),
                delta_method: grpc.stream_stream_rpc_method_handler(
                    self._handler(DeltaSession, fixed),
                    request_deserializer=discovery_pb2.DeltaDiscoveryRequest.FromString,
                    response_serializer=None,
                ),
            }
            if fixed is not None:  # the per-type services also answer one-off fetches
                methods[sotw_method.replace("Stream", "Fetch", 1)] = (
                    grpc.unary_unary_rpc_method_handler(
                        self._fetch_handler(fixed),
                        request_deserializer=discovery_pb2.DiscoveryRequest.FromString,
                        response_serializer=None,
                    )
                )
            out.append(grpc.method_handlers_generic_handler(service, methods))
        return out

    def _fetch_handler(
        self, type_url: TypeUrl
    ) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[bytes]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
            try:
                return await fetch(
                    request,
                    type_url=type_url,
                    watcher=self.watcher,
                    options=self.options,
                    peer=context.peer(),
                    control_plane=self.control_plane,
                )
            except ProtocolError as error:
                log.warning("refusing a fetch from %s: %s", context.peer(), error.message)
                await context.abort(STATUS_OF[error.reason], error.message)
                raise  # abort raises; this line is for type checkers

        return handle

    def _handler(
        self, kind: type[SotwSession] | type[DeltaSession], fixed: TypeUrl | None
    ) -> Handler:
        async def handle(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
        ) -> None:
            session = kind(
                watcher=self.watcher,
                registry=self.registry,
                options=self.options,
                peer=context.peer(),
                fixed_type=fixed,
                control_plane=self.control_plane,
            )
            await run_session(session, context)

        return handle


async def _read(
    session: SotwSession | DeltaSession, context: grpc.aio.ServicerContext[Any, Any]
) -> None:
    try:
        while (request := await context.read()) is not grpc.aio.EOF:
            session.handle(request)
    finally:
        session.ready.set()  # wake the writer: the client is gone or broke a rule


async def run_session(
    session: SotwSession | DeltaSession, context: grpc.aio.ServicerContext[Any, Any]
) -> None:
    """Write the session's responses until the client leaves or breaks the protocol.

    Requests are read by a task of their own; this coroutine writes. Both talk to the call
    directly (`read`, `write`) rather than through iterators: a push to thousands of
    streams pays those layers once per message.
    """
    reader = asyncio.create_task(_read(session, context))
    try:
        while True:
            await session.ready.wait()
            session.ready.clear()
            if reader.done():
                await _finish(session, reader, context)
                return
            try:
                messages = session.drain()
            except Exception:
                log.exception("building responses for %s failed", _who(session))
                await context.abort(grpc.StatusCode.INTERNAL, "the control plane failed")
            for message in messages:
                await context.write(message)
    finally:
        reader.cancel()
        session.close()


async def _finish(
    session: Session, reader: asyncio.Task[None], context: grpc.aio.ServicerContext[Any, Any]
) -> None:
    if reader.cancelled():
        return
    error = reader.exception()
    if error is None:
        return  # the client closed its side: end the stream
    if isinstance(error, ProtocolError):
        log.warning("ending xDS stream of %s: %s", _who(session), error.message)
        await context.abort(STATUS_OF[error.reason], error.message)
    if isinstance(error, (asyncio.CancelledError, grpc.aio.AioRpcError)):
        return
    log.error("xDS stream of %s failed", _who(session), exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "the control plane failed")


def _who(session: Session) -> str:
    node = session.node.id if session.node else "an unidentified node"
    return f"{node} ({session.peer})"
