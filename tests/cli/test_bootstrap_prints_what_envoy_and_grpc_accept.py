"""`lucid bootstrap` prints a sidecar bootstrap the real Envoy accepts (SotW and delta), or
the gRPC xDS bootstrap with --proxyless; it fills the node from the registration it finds
through the REST API and the xDS address the server reports, and flags win."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Run
from tests.e2e.harness.envoy import validate_config

REGISTRATION = """\
apiVersion: lucid.mesh/v1
kind: ServiceRegistration
spec:
  serviceId: 7c9e6679-7425-40de-944b-e07fc1f90ae7
  serviceName: payments
  instanceId: payments-01
  cluster: tron-payment
  plane: wallet
  endpoint: {host: 127.0.0.1, port: 9443, protocol: http}
  version: 1.0.0
  healthCheck: {endpoint: /health, interval: 300, timeout: 10}
"""


def envoy_accepts(bootstrap: str, tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.yaml"
    path.write_text(bootstrap)
    done = validate_config(path, log_level="info", timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_an_offline_sidecar_bootstrap_is_valid_for_envoy(
    offline_lucid: Run, tmp_path: Path, delta: bool
) -> None:
    args = ["bootstrap", "--offline", "--service", "payments", "--instance", "p-1"]
    args += ["--inbound-port", "9443", "--xds-address", "10.0.0.5:18000"]
    done = offline_lucid(*args, *(["--delta"] if delta else []))
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(done.stdout)
    assert document["node"] == {
        "id": "p-1",
        "cluster": "payments",
        "metadata": {"appPort": 9444, "inboundPort": 9443, "outboundPort": 15001},
    }
    ads = document["dynamic_resources"]["ads_config"]
    assert ads["api_type"] == ("DELTA_GRPC" if delta else "GRPC")
    (cluster,) = document["static_resources"]["clusters"]
    address = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert address["address"]["socket_address"] == {"address": "10.0.0.5", "port_value": 18000}
    assert "http2_protocol_options" in json.dumps(cluster)
    assert document["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    envoy_accepts(done.stdout, tmp_path)


def test_the_registration_and_the_xds_address_come_from_the_server(
    lucid: Run, tmp_path: Path
) -> None:
    manifest = tmp_path / "payments.yaml"
    manifest.write_text(REGISTRATION)
    assert lucid("apply", "-f", str(manifest)).returncode == 0
    done = lucid(
        "bootstrap", "--service", "payments", "--instance", "payments-01", "--app-port", "7000"
    )
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(done.stdout)
    assert document["node"]["metadata"] == {
        "appPort": 7000,
        "cluster": "tron-payment",
        "inboundPort": 9443,
        "outboundPort": 15001,
        "plane": "wallet",
        "serviceId": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    }
    proxies = json.loads(lucid("proxy-status", "-o", "json").stdout)
    host, port = proxies["xdsAddress"].rsplit(":", 1)
    xds = document["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]
    socket_address = xds["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    assert socket_address == {"address": host, "port_value": int(port)}


def test_proxyless_prints_the_grpc_xds_bootstrap(offline_lucid: Run) -> None:
    done = offline_lucid(
        "bootstrap", "--offline", "--proxyless", "--service", "web", "--instance", "w-1"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    (server,) = document["xds_servers"]
    assert server == {
        "server_uri": "127.0.0.1:18000",
        "channel_creds": [{"type": "insecure"}],
        "server_features": ["xds_v3"],
    }
    assert document["node"]["id"] == "w-1" and document["node"]["cluster"] == "web"
    assert document["node"]["metadata"]["proxyless"] is True


def test_a_bad_xds_address_is_refused(offline_lucid: Run) -> None:
    done = offline_lucid(
        "bootstrap",
        "--offline",
        "--service",
        "web",
        "--instance",
        "w-1",
        "--xds-address",
        "nowhere",
    )
    assert done.returncode == 1
    assert "HOST:PORT" in done.stderr
