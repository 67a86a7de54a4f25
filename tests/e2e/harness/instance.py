"""One instance of a mesh service: its ports, registration, app and sidecar.

Tests hold `Instance`s to act as the instance's app would (`call` sends a request through
its sidecar's outbound listener, naming the destination in `Host`) and to look at what
its app received and what its sidecar did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.harness.envoy import Envoy
from tests.e2e.harness.upstreams import GrpcApp, HttpApp


class MeshError(RuntimeError):
    """A `lucid` command failed, or an instance lacks what was asked of it."""


@dataclass
class Instance:
    """One instance of a service: ports, registration, app and sidecar."""

    service: str
    instance_id: str
    service_id: str
    plane: str
    cluster: str
    protocol: str
    inbound_port: int
    app_port: int
    outbound_port: int
    edge_port: int | None
    registration: dict[str, Any]
    app: HttpApp | GrpcApp | None = None
    envoy: Envoy | None = None
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def sidecar(self) -> Envoy:
        if self.envoy is None:
            raise MeshError(f"{self.instance_id} has no sidecar running")
        return self.envoy

    @property
    def http_app(self) -> HttpApp:
        assert isinstance(self.app, HttpApp), f"{self.instance_id} has no HTTP app"
        return self.app

    @property
    def grpc_app(self) -> GrpcApp:
        assert isinstance(self.app, GrpcApp), f"{self.instance_id} has no gRPC app"
        return self.app

    @property
    def outbound_url(self) -> str:
        return f"http://127.0.0.1:{self.outbound_port}"

    @property
    def client(self) -> httpx.Client:
        """A keep-alive client to this instance's outbound listener, as its app would use."""
        if self._client is None:
            self._client = httpx.Client(base_url=self.outbound_url, timeout=30.0)
        return self._client

    def call(
        self, destination: str, path: str = "/", method: str = "GET", **kwargs: Any
    ) -> httpx.Response:
        """A request from this instance's app to `destination`, through its sidecar.

        No cookie outlives the call (a sticky-session cookie would otherwise follow every
        later request); a test that wants one passes it in `cookies`.
        """
        headers = {"host": destination, **kwargs.pop("headers", {})}
        cookies = kwargs.pop("cookies", None)
        self.client.cookies.clear()
        if cookies:
            self.client.cookies.update(cookies)
        try:
            return self.client.request(method, path, headers=headers, **kwargs)
        finally:
            self.client.cookies.clear()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.envoy is not None:
            self.envoy.stop()
            self.envoy = None
        if self.app is not None:
            self.app.stop()
            self.app = None
