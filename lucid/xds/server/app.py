"""`XdsServer`: the grpc.aio server of `lucid serve`, as a component with run and stop.

It binds at construction (so `lucid serve` fails fast on a taken port and can log the
real port when asked for port 0), registers every discovery service and CSDS, starts on
`run`, and on `stop` refuses new streams and gives open ones `shutdown_grace_s` to end:
proxies then keep their last configuration and reconnect when a server is back.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from importlib import metadata

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.status.v3 import csds_pb2_grpc

from lucid.xds.cache import ConfigWatcher
from lucid.xds.server.csds import ClientStatusService
from lucid.xds.server.options import XdsOptions
from lucid.xds.server.services import DiscoveryServices
from lucid.xds.server.status import ProxyRegistry

log = logging.getLogger(__name__)


class XdsBindError(Exception):
    """The xDS address cannot be listened on."""


def control_plane_id() -> bytes:
    """The `ControlPlane` every response carries, so an Envoy config dump names its source."""
    try:
        version = metadata.version("lucid-mesh")
    except metadata.PackageNotFoundError:
        version = "0.0.0"
    identifier = f"lucid-mesh/{version}@{socket.gethostname()}"
    return bytes(base_pb2.ControlPlane(identifier=identifier).SerializeToString())


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class XdsServer:
    name = "xds"

    def __init__(
        self, watcher: ConfigWatcher, registry: ProxyRegistry, options: XdsOptions
    ) -> None:
        self.options = options
        self.registry = registry
        self._server = grpc.aio.server(
            options=options.grpc_options(),
            maximum_concurrent_rpcs=options.max_concurrent_rpcs,
        )
        services = DiscoveryServices(watcher, registry, options, control_plane=control_plane_id())
        self._server.add_generic_rpc_handlers(services.handlers())
        csds_pb2_grpc.add_ClientStatusDiscoveryServiceServicer_to_server(
            ClientStatusService(registry), self._server
        )
        address = f"{options.host}:{options.port}"
        if ":" in options.host and not options.host.startswith("["):
            address = f"[{options.host}]:{options.port}"
        try:
            self.port = self._server.add_insecure_port(address)
        except RuntimeError as exc:
            raise XdsBindError(f"cannot listen for xDS on {address}: {exc}") from exc
        if not self.port:
            raise XdsBindError(f"cannot listen for xDS on {address}")
        self._stopping = asyncio.Event()
        self._started = asyncio.Event()

    @property
    def address(self) -> str:
        return f"{self.options.host}:{self.port}"

    async def started(self) -> None:
        await self._started.wait()

    async def run(self) -> None:
        await self._server.start()
        if not _is_loopback(self.options.host):
            log.warning(
                "xDS listens on %s, reachable from other machines, in PLAINTEXT: anyone who can "
                "connect can read the mesh configuration and its secrets",
                self.address,
            )
        log.info("xDS listening on %s", self.address)
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            await self._server.stop(self.options.shutdown_grace_s)
            log.info("xDS server stopped")

    def stop(self) -> None:
        self._stopping.set()
