"""A real Envoy's endpoints follow the registry: unhealthy instances are marked UNHEALTHY
through EDS and come back, and an instance whose TTL lapses leaves the cluster.

One `lucid serve` (with its xDS server) and one caller sidecar per module; upstream
instances are real HTTP and gRPC servers registered through the registration API. What
Envoy knows is read from its admin `/clusters`: `eds_health_status` is what EDS said, so
it shows the registry's verdict apart from Envoy's own active checks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
import yaml
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from tests.e2e.harness.envoy import Envoy, LocalRunner
from tests.e2e.harness.lucid import LucidServer, runner, start_lucid_server
from tests.registry.conftest import GrpcUpstream, HttpUpstream, bearer, upstream_registration

CALLER_ID = str(uuid.uuid4())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LucidServer]:
    server = start_lucid_server(tmp_path_factory.mktemp("lucid") / "data")
    if server.xds_port is None:
        server.stop()
        pytest.skip("this lucid serve has no xDS server")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def caller(served: LucidServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    run = runner(served.cli_env())
    done = run(
        "bootstrap", "--offline", "-o", "yaml",
        "--service", "client", "--instance", "client-01", "--service-id", CALLER_ID,
        "--plane", "chain", "--cluster", "blockchain-core", "--inbound-port", "15006",
        "--xds-address", f"127.0.0.1:{served.xds_port}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bootstrap: dict[str, Any] = yaml.safe_load(done.stdout)
    envoy = LocalRunner().start("client", bootstrap, tmp_path_factory.mktemp("envoy"))
    try:
        envoy.wait_live()
        yield envoy
    finally:
        envoy.stop()


def register(served: LucidServer, body: dict[str, Any]) -> str:
    registration_token = (served.data_dir / "registration-token").read_text().strip()
    with httpx.Client(base_url=served.url, timeout=10) as client:
        response = client.post("/v1/services", json=body, headers=bearer(registration_token))
    assert response.status_code == 201, response.text
    token: str = response.json()["serviceToken"]
    return token


def eds_status(envoy: Envoy, service: str, port: int) -> str | None:
    """What EDS last told Envoy about 127.0.0.1:port in `outbound|service`; None if absent."""
    for host in envoy.clusters().get(f"outbound|{service}", []):
        if host.address == f"127.0.0.1:{port}":
            return str(host.health.get("eds_health_status", "HEALTHY"))
    return None


def test_an_unhealthy_http_instance_is_marked_unhealthy_and_comes_back(served, caller):
    steady, flaky = HttpUpstream(), HttpUpstream()
    try:
        register(served, upstream_registration(101, steady.port))
        register(served, upstream_registration(102, flaky.port))
        caller.wait_until(
            lambda: (
                eds_status(caller, "payments", flaky.port) == "HEALTHY"
                and eds_status(caller, "payments", steady.port) == "HEALTHY"
            ),
            timeout=30,
            what="both instances HEALTHY through EDS",
        )

        flaky.answer = 503
        caller.wait_until(
            lambda: eds_status(caller, "payments", flaky.port) == "UNHEALTHY",
            timeout=30,
            what="the failing instance UNHEALTHY",
        )
        assert eds_status(caller, "payments", steady.port) == "HEALTHY"

        flaky.answer = 200
        caller.wait_until(
            lambda: eds_status(caller, "payments", flaky.port) == "HEALTHY",
            timeout=30,
            what="the recovered instance HEALTHY again",
        )
    finally:
        steady.close()
        flaky.close()


async def test_a_grpc_instance_not_serving_is_marked_unhealthy_and_comes_back(served, caller):
    server = grpc.aio.server()
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    upstream = GrpcUpstream(server, health, port)
    try:
        await upstream.serving(True)
        body = upstream_registration(201, port, protocol="grpc")
        body["serviceName"] = "ledger"
        await asyncio.to_thread(register, served, body)
        await _until(lambda: eds_status(caller, "ledger", port) == "HEALTHY", "gRPC HEALTHY")
        await upstream.serving(False)
        await _until(lambda: eds_status(caller, "ledger", port) == "UNHEALTHY", "NOT_SERVING")
        await upstream.serving(True)
        await _until(lambda: eds_status(caller, "ledger", port) == "HEALTHY", "SERVING again")
    finally:
        await server.stop(None)


async def _until(condition: Any, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.1)


def test_an_instance_whose_ttl_lapses_leaves_the_endpoints(served, caller):
    upstream = HttpUpstream()
    try:
        body = {**upstream_registration(301, upstream.port), "serviceName": "billing", "ttl": 30}
        register(served, body)
        caller.wait_until(
            lambda: eds_status(caller, "billing", upstream.port) is not None,
            timeout=30,
            what="the instance in the cluster",
        )
        caller.wait_until(
            lambda: eds_status(caller, "billing", upstream.port) is None,
            timeout=60,
            what="the instance gone after its 30 s ttl",
        )
        with httpx.Client(base_url=served.url, timeout=10) as client:
            status = client.get(f"/v1/services/{body['serviceId']}").json()["status"]
        assert status["status"] == "expired"
    finally:
        upstream.close()
