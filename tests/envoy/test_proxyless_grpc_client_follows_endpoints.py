"""A grpcio client with `xds:///greeter` and the bootstrap `lucid bootstrap --proxyless`
prints makes real RPCs (the grpc.health.v1 Health service and an echo) to a real gRPC
upstream found through Lucid's xDS, and follows an endpoint change: when the instance it
used is replaced, its next RPCs reach the new one without restarting the client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness.mesh import Instance, Mesh
from tests.envoy.conftest import eventually

CLIENT = Path(__file__).parent / "apps" / "proxyless_client.py"
# Rare checks that never matter here (the instances stay `unknown`, which is routable).
GRPC_CHECK = {"endpoint": "/health", "interval": 300, "timeout": 10, "grpcCheck": {"service": ""}}


def add_greeter(mesh: Mesh, instance: str) -> Instance:
    return mesh.add_instance(
        "greeter", instance, protocol="grpc", app="grpc", sidecar=False, health_check=GRPC_CHECK
    )


class ProxylessClient:
    def __init__(self, bootstrap: str, target: str, log: Path) -> None:
        env = {"GRPC_XDS_BOOTSTRAP_CONFIG": bootstrap, "PATH": "/usr/bin:/bin"}
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(CLIENT), target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the proxyless client exited"
        return dict(json.loads(line))

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


@pytest.fixture
def client(mesh: Mesh) -> Iterator[ProxylessClient]:
    first = add_greeter(mesh, "greeter-01")
    mesh.register(first)
    bootstrap = mesh.run(
        "bootstrap", "--proxyless", "--service", "web", "--instance", "web-grpc-01"
    ).stdout
    document = json.loads(bootstrap)
    assert document["xds_servers"][0]["server_features"] == ["xds_v3"]
    assert document["node"]["metadata"]["proxyless"] is True
    started = ProxylessClient(bootstrap, "greeter", mesh.logs / "proxyless-client.log")
    try:
        yield started
    finally:
        started.close()


def test_rpcs_reach_the_upstream_and_follow_an_endpoint_change(
    mesh: Mesh, client: ProxylessClient
) -> None:
    assert client.ask("health") == {"status": "SERVING"}
    assert client.ask("echo") == {"instance": "greeter-01"}
    second = add_greeter(mesh, "greeter-02")
    mesh.register(second)
    mesh.deregister(mesh.instances["greeter-01"])
    eventually(
        lambda: client.ask("echo") == {"instance": "greeter-02"},
        "the client to follow the endpoint change",
        mesh,
    )
    assert client.ask("health") == {"status": "SERVING"}
    proxies = json.loads(mesh.run("proxy-status", "-o", "json").stdout)["items"]
    (web,) = [p for p in proxies if p["nodeId"] == "web-grpc-01"]
    assert web["proxyless"] and web["types"]["LDS"]["inSync"] and web["types"]["EDS"]["inSync"]
