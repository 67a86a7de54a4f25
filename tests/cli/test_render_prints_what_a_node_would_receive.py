"""`lucid render` works offline: the static bootstrap (YAML or JSON) or a config dump of
one node of the YAML, found by instanceId or serviceId, with the sidecar contract's ports."""

from __future__ import annotations

import json
import re

import yaml

from lucid.cli import main
from lucid.xds.resources import ADS_ORDER, SHORT_NAMES
from tests.cli.conftest import ROOT

EXAMPLES = str(ROOT / "examples")
GATEWAY_SERVICE_ID = "550e8400-e29b-41d4-a716-446655440000"


def render(capsys, *args):
    code = main(["render", "-f", EXAMPLES, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_real_command_prints_a_yaml_bootstrap(offline_lucid):
    result = offline_lucid("render", "-f", EXAMPLES, "--node", "blockchain-core-02")

    assert result.returncode == 0, result.stderr
    bootstrap = yaml.safe_load(result.stdout)
    assert bootstrap["node"]["id"] == "blockchain-core-02"
    assert bootstrap["node"]["cluster"] == "blockchain-core"
    assert bootstrap["admin"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 9901,
    }
    assert set(bootstrap["static_resources"]) == {"secrets", "clusters", "listeners"}
    assert "BEGIN CERTIFICATE-----\n" in result.stdout  # PEM as a literal block


def test_a_gateway_gets_the_contract_ports_and_an_edge_port(capsys):
    code, out, _ = render(capsys, "--node", "api-gateway-01", "-o", "json")

    assert code == 0
    assert json.loads(out)["node"]["metadata"] == {
        "appPort": 8081,
        "cluster": "api-gateway",
        "edgePort": 10000,
        "inboundPort": 8080,
        "outboundPort": 15001,
        "plane": "ops",
        "serviceId": GATEWAY_SERVICE_ID,
    }


def test_ports_can_be_chosen_and_a_node_found_by_service_id(capsys):
    code, out, _ = render(
        capsys,
        "--node",
        GATEWAY_SERVICE_ID,
        "--app-port",
        "3000",
        "--edge-port",
        "8443",
        "-o",
        "json",
    )

    assert code == 0
    node = json.loads(out)["node"]
    assert node["id"] == "api-gateway-01"
    assert node["metadata"]["appPort"] == 3000
    assert node["metadata"]["edgePort"] == 8443


def test_other_nodes_have_no_edge_port(capsys):
    code, out, _ = render(capsys, "--node", "session-recorder-01", "-o", "json")

    assert code == 0
    assert "edgePort" not in json.loads(out)["node"]["metadata"]


def test_the_dump_lists_every_type_with_versions_and_redacts_private_keys(capsys):
    code, out, _ = render(capsys, "--node", "api-gateway-01", "--format", "dump")

    assert code == 0
    dump = json.loads(out)
    assert [group["type"] for group in dump["resources"]] == [SHORT_NAMES[t] for t in ADS_ORDER]
    listed = [r for group in dump["resources"] for r in group["resources"]]
    assert listed
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["version"]) for r in listed)
    assert "PRIVATE KEY" not in out
    assert "[redacted]" in out


def test_cluster_versions_are_the_same_on_every_run(capsys):
    def versions():
        _, out, _ = render(capsys, "--node", "api-gateway-01", "--format", "dump")
        (clusters,) = [g for g in json.loads(out)["resources"] if g["type"] == "CDS"]
        return {r["name"]: r["version"] for r in clusters["resources"]}

    assert versions() == versions()


def test_an_unknown_node_is_a_lucid_error_naming_it(capsys):
    code, out, err = render(capsys, "--node", "no-such-node")

    assert code == 1
    assert out == ""
    assert "LUCID_ERR_1002" in err
    assert "'no-such-node'" in err
    assert "api-gateway-01" in err  # the known nodes are listed


def test_invalid_yaml_is_reported_with_file_and_line(capsys, write):
    path = write(
        "bad.yaml",
        """
        apiVersion: lucid.mesh/v1
        kind: TrafficPolicy
        spec:
          name: gateway-to-chain
          source: api-gateway
          destination: blockchain-core
          priority: 0
          rules: [{action: allow}]
        """,
    )

    code = main(["render", "-f", str(path), "--node", "api-gateway-01"])

    err = capsys.readouterr().err
    assert code == 1
    assert f"{path}:7" in err
    assert "LUCID_ERR_1201 spec.priority" in err


GRPC_SERVICES = """
apiVersion: lucid.mesh/v1
kind: ServiceRegistration
spec:
  serviceId: 00000000-0000-4000-8000-000000000001
  serviceName: ledger-client
  instanceId: ledger-client-1
  cluster: blockchain-core
  plane: chain
  version: 1.0.0
  endpoint: {host: 10.0.0.1, port: 9000, protocol: grpc}
  healthCheck: {endpoint: /health, interval: 30, timeout: 10}
---
apiVersion: lucid.mesh/v1
kind: ServiceRegistration
spec:
  serviceId: 00000000-0000-4000-8000-000000000002
  serviceName: ledger
  cluster: blockchain-core
  plane: chain
  version: 1.0.0
  endpoint: {host: 10.0.0.2, port: 9000, protocol: grpc}
  healthCheck: {endpoint: /health, interval: 30, timeout: 10}
"""


def test_a_proxyless_client_is_rendered_as_a_dump(capsys, write):
    path = write("grpc.yaml", GRPC_SERVICES)

    code = main(["render", "-f", str(path), "--node", "ledger-client-1", "--proxyless"])

    out, err = capsys.readouterr()
    assert code == 0, err
    dump = json.loads(out)
    assert dump["node"]["metadata"]["proxyless"] is True
    assert "inboundPort" not in dump["node"]["metadata"]
    (listeners,) = [g for g in dump["resources"] if g["type"] == "LDS"]
    assert "ledger" in [r["name"] for r in listeners["resources"]]


def test_a_proxyless_client_has_no_static_bootstrap(capsys):
    code, out, err = render(
        capsys, "--node", "blockchain-core-02", "--proxyless", "--format", "bootstrap"
    )

    assert code == 1
    assert out == ""
    assert "proxyless gRPC client" in err
    assert "--format dump" in err
