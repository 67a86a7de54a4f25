"""The upstream apps the scenarios rely on do what their controls say.

Every scenario reads its verdict partly from these apps (how many attempts arrived, who
called, which instance answered), so their controls are checked here directly, without
Envoy in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from tests.e2e.harness.upstreams import (
    GrpcApp,
    HttpApp,
    grpc_echo,
    start_grpc_app,
    start_http_app,
)


@pytest.fixture(scope="module")
def http_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpApp]:
    app = start_http_app("echo-01", tmp_path_factory.mktemp("apps"))
    yield app
    assert app.stop() == 0


@pytest.fixture(scope="module")
def grpc_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcApp]:
    app = start_grpc_app(
        "grpc-01", tmp_path_factory.mktemp("apps"), services=("lucid.chain.v1.BlockService",)
    )
    yield app
    assert app.stop() == 0


@pytest.fixture(autouse=True)
def fresh(http_app: HttpApp, grpc_app: GrpcApp) -> None:
    http_app.reset()
    grpc_app.reset()


def test_the_http_app_echoes_the_request_and_the_caller_it_sees(http_app: HttpApp) -> None:
    answer = httpx.post(
        f"{http_app.url}/orders/7?a=1&b=2",
        headers={"x-lucid-source": "web", "x-forwarded-client-cert": "URI=spiffe://x"},
        content=b"hello",
    )
    assert answer.status_code == 200
    assert answer.headers["x-app-instance"] == "echo-01"
    body = answer.json()
    assert (body["method"], body["path"], body["query"]) == (
        "POST",
        "/orders/7",
        {"a": "1", "b": "2"},
    )
    assert (body["source"], body["xfcc"], body["body"]) == ("web", "URI=spiffe://x", "hello")


def test_the_http_app_fails_exactly_the_next_n_requests(http_app: HttpApp) -> None:
    http_app.fail_next(2, status=503)
    statuses = [httpx.get(f"{http_app.url}/x").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    counts = http_app.counts()
    assert (counts["total"], counts["failed"], counts["by_path"]) == (4, 2, {"/x": 4})


def test_the_http_app_delays_when_told(http_app: HttpApp) -> None:
    http_app.delay(1500, count=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{http_app.url}/slow", timeout=0.5)
    assert httpx.get(f"{http_app.url}/fast", timeout=5).status_code == 200


def test_the_http_app_health_endpoint_follows_its_order(http_app: HttpApp) -> None:
    assert httpx.get(f"{http_app.url}/health").status_code == 200
    http_app.set_health(503)
    assert httpx.post(f"{http_app.url}/health").status_code == 503
    counts = http_app.counts()
    assert (counts["health_checks"], counts["total"]) == (2, 0)


def test_the_grpc_app_health_status_is_settable(grpc_app: GrpcApp) -> None:
    service = "lucid.chain.v1.BlockService"
    assert (grpc_app.health(), grpc_app.health(service)) == ("SERVING", "SERVING")
    grpc_app.set_health("NOT_SERVING", service)
    assert (grpc_app.health(), grpc_app.health(service)) == ("SERVING", "NOT_SERVING")
    grpc_app.set_health("SERVING", service)


def test_the_grpc_app_echoes_metadata_and_fails_when_told(grpc_app: GrpcApp) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{grpc_app.port}") as channel:
        call = channel.unary_unary("/lucid.e2e.Echo/Echo")
        answer = call(b"ping", metadata=[("x-lucid-source", "web")], timeout=5)
        assert b'"source": "web"' in answer and b'"body": "ping"' in answer
        grpc_app.fail_next(1, code="UNAVAILABLE")
        with pytest.raises(grpc.RpcError) as failure:
            grpc_echo(channel, b"again")
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        assert grpc_echo(channel, b"third")["instance"] == "grpc-01"
    assert grpc_app.counts() == {"instance": "grpc-01", "total": 3, "failed": 1}


def test_a_stopped_app_no_longer_listens(tmp_path: Path) -> None:
    app = start_http_app("short-lived", tmp_path)
    assert app.stop() == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{app.url}/x", timeout=1)
