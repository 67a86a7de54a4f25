"""The demo's mesh: the example services as local apps behind real Envoy sidecars.

`examples/` describes services at addresses that do not exist on this machine
(`api-gateway.lucid.onion:8080`, `10.0.1.101:8084` ...). The demo keeps every example
document as written except where each instance listens: a registration keeps its
serviceId, name, instanceId, plane, cluster, version and metadata, and its endpoint moves
to the instance's sidecar on a free port of 127.0.0.1 (`Mesh.add_instance` of the e2e
harness picks the ports and starts the app). Three more things change in a registration,
and the demo says so when it runs:

- `protocol: http` and no `tls`: the demo apps are the harness's HTTP/1.1 echo app, not
  the gRPC and HTTPS servers the examples describe;
- the harness's rare `GET /health` check instead of the examples' gRPC / POST checks,
  which the echo app cannot answer, so health stays out of the way of the policies shown;
- `ttl: 3600`, so no registration lapses while the demo runs (tron-payment-service's 60 s
  would, as the demo heartbeats nothing).

Everything else (the split and mirror targets the example traffic policies name) is
listed in `EXTRAS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.harness.mesh import Instance, Mesh, default_health_check, document

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GATEWAY = "api-gateway-01"
# Services the example traffic policies send to but examples/ does not register:
# (name, plane, cluster) — each one app, registered without a sidecar.
UNREGISTERED_TARGETS = (
    ("blockchain-core-canary", "chain", "blockchain-core"),
    ("session-audit", "ops", "session-management"),
)
EXTRAS = (
    "registered blockchain-core-canary and session-audit (targets of the example split and "
    "mirror), one app each, no sidecar",
    "registrations: endpoint 127.0.0.1:<free port> protocol http, GET /health every 300 s, "
    "ttl 3600",
)


@dataclass
class DemoMesh:
    """The running mesh and the example instances by instanceId."""

    mesh: Mesh
    documents: int

    def __getitem__(self, instance_id: str) -> Instance:
        return self.mesh.instances[instance_id]

    @property
    def gateway(self) -> Instance:
        return self[GATEWAY]

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.edge_port}"


def example_documents() -> list[dict[str, Any]]:
    """Every document of examples/, in file order."""
    documents: list[dict[str, Any]] = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def local_registration(spec: dict[str, Any], instance: Instance) -> dict[str, Any]:
    """The example registration `spec`, listening where `instance`'s sidecar does."""
    local = dict(spec)
    endpoint = {k: v for k, v in spec["endpoint"].items() if k != "tls"}
    endpoint.update(host="127.0.0.1", port=instance.inbound_port, protocol="http")
    local.update(endpoint=endpoint, healthCheck=default_health_check("http"), ttl=3600)
    return document("ServiceRegistration", local)


def add_example_instance(mesh: Mesh, spec: dict[str, Any]) -> Instance:
    """Start the app of one example registration and attach its local registration."""
    instance = mesh.add_instance(
        spec["serviceName"],
        spec["instanceId"],
        plane=spec["plane"],
        cluster=spec["cluster"],
        edge=spec["cluster"] == "api-gateway",
    )
    instance.service_id = spec["serviceId"]
    instance.registration = local_registration(spec, instance)
    return instance


def build(mesh: Mesh) -> DemoMesh:
    """Apps for every example instance and extra target, one `lucid apply` of all the
    documents, then every sidecar from `lucid bootstrap` (started in parallel)."""
    documents = example_documents()
    others = [d for d in documents if d["kind"] != "ServiceRegistration"]
    registrations = [
        add_example_instance(mesh, d["spec"])
        for d in documents
        if d["kind"] == "ServiceRegistration"
    ]
    for name, plane, cluster in UNREGISTERED_TARGETS:
        mesh.add_instance(name, plane=plane, cluster=cluster, sidecar=False)
    everything = [i.registration for i in mesh.instances.values()] + others
    mesh.apply(everything, "examples-on-localhost")
    mesh.start_sidecars(*registrations)
    return DemoMesh(mesh, len(everything))
