"""The registry over a real SQLite file, with real HTTP and gRPC upstreams to check.

`api` is the REST API in-process (httpx's ASGI transport) with the registry mounted;
`running` starts the registry component (expiry timer, checker, store follower) on the
test's loop. `http_upstream` is a real HTTP server on a free loopback port whose answer
the test sets; `grpc_upstream` a real gRPC server with the standard health service.
Waiting is done by polling a condition with a generous bound, never by timing assertions.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from lucid.api.app import create_app
from lucid.registry import Registry, RegistryComponent
from lucid.resources import Resources
from lucid.store import COLLECTIONS, SQLiteStore
from tests import builders

TOKEN = "operator-token-5b1e0c9d"
REGISTRATION_TOKEN = "registration-token-0f7a2c41"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
REGISTRAR = {"Authorization": f"Bearer {REGISTRATION_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upstream_registration(
    number: int, port: int, protocol: str = "http", **health: Any
) -> dict[str, Any]:
    """A registration of instance `number` listening on 127.0.0.1:`port`, checked quickly."""
    check = {"interval": 5, "timeout": 2, "retries": 1, "successThreshold": 1}
    check["failureThreshold"] = 1
    return builders.instance(
        "payments",
        number,
        endpoint=builders.endpoint(host="127.0.0.1", port=port, protocol=protocol),
        healthCheck=builders.health_check(**{**check, **health}),
    )


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, what: str = "condition"
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.05)


def events_of(store: SQLiteStore, event_type: str | None = None) -> list[dict[str, Any]]:
    found = [r.document for r in store.list(collection="event_stream")]
    return sorted(
        (e for e in found if event_type is None or e["eventType"] == event_type),
        key=lambda e: e["timestamp"],
    )


def stored(store: SQLiteStore) -> int:
    return sum(len(store.list(collection=name)) for name in COLLECTIONS)


def status_of(store: SQLiteStore, service_id: str) -> str | None:
    record = store.get(collection="service_registry", key=service_id)
    return None if record is None else str(record.document["status"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "lucid.db")
    yield opened
    opened.close()


@pytest.fixture
def registry(store: SQLiteStore) -> Registry:
    return Registry(store)


@pytest.fixture
async def api(store: SQLiteStore, registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Resources(store), token=TOKEN, registry=registry, registration_token=REGISTRATION_TOKEN
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lucid.test") as client:
        yield client


@pytest.fixture
async def running(registry: Registry) -> AsyncIterator[RegistryComponent]:
    component = RegistryComponent(registry, concurrency=8)
    task = asyncio.create_task(component.run())
    await asyncio.wait_for(component.started.wait(), 10)
    yield component
    component.stop()
    await asyncio.wait_for(task, 10)


async def register(api: httpx.AsyncClient, body: dict[str, Any]) -> str:
    """Register through the API; returns the service token."""
    response = await api.post("/v1/services", json=body, headers=REGISTRAR)
    assert response.status_code == 201, response.text
    token: str = response.json()["serviceToken"]
    return token


class HttpUpstream:
    """A real HTTP server; `answer` is the status every request gets."""

    def __init__(self) -> None:
        self.answer = 200
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.fail_next = 0  # this many requests get 503 before `answer` applies again
        self.delay = 0.0  # seconds each answer is held back
        self.in_flight = 0
        self.max_in_flight = 0
        lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    upstream.requests.append((self.command, self.path, dict(self.headers), body))
                    upstream.in_flight += 1
                    upstream.max_in_flight = max(upstream.max_in_flight, upstream.in_flight)
                    status = upstream.answer
                    if upstream.fail_next > 0:
                        upstream.fail_next -= 1
                        status = 503
                if upstream.delay:
                    time.sleep(upstream.delay)
                with lock:
                    upstream.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(b"ok")

            do_GET = do_POST = do_HEAD = _reply

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def http_upstream() -> Iterator[HttpUpstream]:
    upstream = HttpUpstream()
    yield upstream
    upstream.close()


class GrpcUpstream:
    def __init__(self, server: grpc.aio.Server, health: health_aio.HealthServicer, port: int):
        self.server, self.health, self.port = server, health, port

    async def serving(self, yes: bool, service: str = "") -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if yes
            else (health_pb2.HealthCheckResponse.NOT_SERVING)
        )
        await self.health.set(service, status)


@pytest.fixture
async def grpc_upstream() -> AsyncIterator[GrpcUpstream]:
    server = grpc.aio.server()
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    upstream = GrpcUpstream(server, health, port)
    await upstream.serving(True)
    yield upstream
    await server.stop(None)
