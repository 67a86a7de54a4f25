"""The real Envoy 1.40 (`envoy --mode validate`) accepts every cluster we generate.

The clusters go into a static bootstrap. EDS has no server here, so each EDS cluster
becomes STATIC with its own generated load assignment inline: Envoy then checks the
cluster and the endpoints together, as it would after an ADS push.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from envoy.config.cluster.v3 import cluster_pb2
from google.protobuf import json_format

from lucid.translators.clusters import clusters
from lucid.translators.endpoints import load_assignments
from tests.builders import (
    circuit_break_policy,
    endpoint,
    health_check,
    instance,
    load_balancing,
    numbered_service_id,
    routing,
    sidecar_for,
    timeout_config,
)
from tests.e2e.harness.envoy import validate_config

ALGORITHMS = ["round-robin", "least-connections", "random", "weighted", "consistent-hash"]


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ca")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=lucid-test-ca",
            "-keyout",
            str(folder / "ca.key"),
            "-out",
            str(folder / "ca.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return str(folder / "ca.pem")


def every_feature(mesh, ca_file):
    registrations, sidecars = [], []
    for n, algorithm in enumerate(ALGORITHMS, start=1):
        name = f"svc-{algorithm}"
        registrations += [instance(name, n * 10 + i, metadata={"weight": i}) for i in (1, 2)]
        sidecars.append(
            sidecar_for(
                n * 10 + 1,
                policies=[
                    circuit_break_policy(
                        maxConnections=50,
                        maxRetries=2,
                        errorTypes=["5xx", "gateway-error", "timeout"],
                    )
                ],
                routing=routing(
                    loadBalancing=load_balancing(algorithm=algorithm),
                    timeout=timeout_config(connect=800, idle=120000),
                ),
            )
        )
    tls = {"enabled": True, "certAuthority": ca_file}
    registrations += [
        instance(
            "chain-grpcs",
            91,
            endpoint=endpoint(host="10.0.0.91", protocol="grpcs", tls=tls),
            healthCheck=health_check(grpcCheck={"service": "lucid.Chain"}),
        ),
        instance(
            "chain-grpc",
            92,
            endpoint=endpoint(host="10.0.0.92", protocol="grpc"),
            healthCheck=health_check(httpCheck={"method": "HEAD"}),
        ),
        instance(
            "api-https",
            93,
            endpoint=endpoint(host="api.lucid.onion", protocol="https"),
            healthCheck=health_check(
                httpCheck={
                    "method": "POST",
                    "body": "ping",
                    "headers": {"x-probe": "1"},
                    "expectedStatus": [200, 201, 204],
                }
            ),
        ),
        instance("gone-service", 94),
    ]
    statuses = {
        numbered_service_id(11): "healthy",
        numbered_service_id(12): "unhealthy",
        numbered_service_id(21): "degraded",
        numbered_service_id(94): "expired",
    }
    return mesh(registrations, sidecars, statuses=statuses)


def static_bootstrap(state) -> dict:
    assignments = {a.cluster_name: a for a in load_assignments(state)}
    static = []
    for generated in clusters(state):
        cluster = cluster_pb2.Cluster()
        cluster.CopyFrom(generated)
        if cluster.type == cluster_pb2.Cluster.EDS:
            cluster.ClearField("eds_cluster_config")
            cluster.type = cluster_pb2.Cluster.STATIC
            cluster.load_assignment.CopyFrom(assignments[cluster.name])
        static.append(json_format.MessageToDict(cluster))
    return {
        "node": {"id": "validate", "cluster": "validate"},
        "static_resources": {"clusters": static},
    }


def validate(bootstrap: dict, folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "bootstrap.json"
    path.write_text(json.dumps(bootstrap, indent=2))
    return validate_config(path, timeout=60)


def test_envoy_validates_clusters_with_every_feature(mesh, ca_file, tmp_path):
    bootstrap = static_bootstrap(every_feature(mesh, ca_file))
    assert len(bootstrap["static_resources"]["clusters"]) == 9
    result = validate(bootstrap, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_catches_what_envoy_refuses(mesh, ca_file, tmp_path):
    """A DNS-named service forced into a STATIC cluster is refused: the check is real."""
    bootstrap = static_bootstrap(every_feature(mesh, ca_file))
    (dns,) = [c for c in bootstrap["static_resources"]["clusters"] if c["type"] == "STRICT_DNS"]
    dns["type"] = "STATIC"
    result = validate(bootstrap, tmp_path)
    assert result.returncode != 0
    assert "malformed IP address" in result.stdout + result.stderr
