"""Handles on the upstream apps (`tests/e2e/apps/`): start one, give it orders, read counts.

Each app is a separate process on a free port; the handle talks to it directly on that
port (never through Envoy), so a test can set the stage and then check what the app
received behind the sidecars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.harness.processes import ROOT, Process, free_port, python_process

APPS = ROOT / "tests" / "e2e" / "apps"
HTTP_APP = APPS / "http_app.py"
GRPC_APP = APPS / "grpc_app.py"
ECHO_METHOD = "/lucid.e2e.Echo/Echo"


@dataclass
class HttpApp:
    """The HTTP echo app of one instance."""

    name: str
    port: int
    process: Process
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _order(self, command: str, **order: Any) -> dict[str, Any]:
        response = self.client.post(f"/__control/{command}", json=order)
        response.raise_for_status()
        return dict(response.json())

    def fail_next(self, count: int, status: int = 503) -> None:
        self._order("fail", count=count, status=status)

    def delay(self, ms: int, count: int | None = None) -> None:
        self._order("delay", ms=ms, count=count)

    def set_health(self, status: int) -> None:
        self._order("health", status=status)

    def reset(self) -> None:
        self._order("reset")

    def counts(self) -> dict[str, Any]:
        return dict(self.client.get("/__control/counts").json())

    def requests(self) -> list[dict[str, Any]]:
        return list(self.client.get("/__control/requests").json())

    def stop(self) -> int:
        self.client.close()
        return self.process.stop()


def start_http_app(
    name: str, logs: Path, *, port: int | None = None, health_path: str = "/health"
) -> HttpApp:
    port = port or free_port()
    process = python_process(
        f"http-app {name}",
        HTTP_APP,
        ["--name", name, "--port", port, "--health-path", health_path],
        logs / f"app-{name}.log",
    )
    process.wait_http(f"http://127.0.0.1:{port}/__control/counts")
    return HttpApp(name, port, process)


@dataclass
class GrpcApp:
    """The gRPC app of one instance: health with a settable status, and echo."""

    name: str
    port: int
    process: Process
    channel: grpc.Channel = field(init=False)

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")

    def _control(self, command: str, **order: Any) -> dict[str, Any]:
        call = self.channel.unary_unary(f"/lucid.e2e.Control/{command}")
        return dict(json.loads(call(json.dumps(order).encode(), timeout=10)))

    def set_health(self, status: str, service: str = "") -> None:
        """`status`: SERVING or NOT_SERVING (grpc.health.v1 names)."""
        self._control("SetHealth", service=service, status=status)

    def fail_next(self, count: int, code: str = "UNAVAILABLE") -> None:
        self._control("Fail", count=count, code=code)

    def counts(self) -> dict[str, Any]:
        return self._control("Counts")

    def reset(self) -> None:
        self._control("Reset")

    def health(self, service: str = "") -> str:
        stub = health_pb2_grpc.HealthStub(self.channel)
        answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))

    def stop(self) -> int:
        self.channel.close()
        return self.process.stop()


def start_grpc_app(
    name: str, logs: Path, *, port: int | None = None, services: tuple[str, ...] = ()
) -> GrpcApp:
    port = port or free_port()
    args: list[str | int] = ["--name", name, "--port", port]
    for service in services:
        args += ["--service", service]
    process = python_process(f"grpc-app {name}", GRPC_APP, args, logs / f"app-{name}.log")
    process.wait_port(port)
    app = GrpcApp(name, port, process)
    return app


def grpc_echo(channel: grpc.Channel, body: bytes = b"", timeout: float = 10.0) -> dict[str, Any]:
    """One echo RPC over `channel`; the app's JSON answer."""
    call = channel.unary_unary(ECHO_METHOD)
    return dict(json.loads(call(body, timeout=timeout)))
