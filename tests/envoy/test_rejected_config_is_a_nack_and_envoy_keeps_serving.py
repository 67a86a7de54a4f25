"""A configuration Lucid accepts but Envoy refuses: a route path regex with a lookahead.

Lucid checks `regex:` paths with Python's `re`, which knows `(?!...)`; Envoy compiles
them with RE2, which does not, and NACKs the route configuration. The NACK shows in
`lucid proxy-status` with Envoy's message, becomes a `config.rejected` event, Envoy
keeps serving with its last good routes, and a fixed configuration is accepted again.
"""

from __future__ import annotations

from lucid.store import SQLiteStore
from tests.e2e.harness.mesh import Instance, Mesh, document
from tests.envoy.conftest import (
    TRANSPORTS,
    answered_by,
    caller_and_backend,
    eventually,
    proxies,
    synced,
)


def routing(caller: Instance, path: str) -> list[dict[str, object]]:
    spec = {
        "serviceId": caller.service_id,
        "policies": [],
        "routing": {
            "defaultRoute": "backend",
            "routes": [{"match": {"path": path}, "destination": "backend"}],
        },
    }
    return [document("SidecarConfiguration", spec)]


def rds_nack(mesh: Mesh, caller: Instance) -> str | None:
    nack = proxies(mesh)[caller.instance_id]["types"]["RDS"]["nack"]
    return None if nack is None else str(nack["error"])


@TRANSPORTS
def test_a_refused_route_regex_is_a_nack_and_the_old_routes_keep_serving(
    mesh: Mesh, delta: bool
) -> None:
    caller, backend = caller_and_backend(mesh, delta=delta)
    eventually(lambda: synced(mesh, caller.instance_id), "the caller to be in sync", mesh)
    good = proxies(mesh)[caller.instance_id]["types"]["RDS"]["ackedVersion"]
    lookahead = mesh.write_manifest(routing(caller, "regex:^/api/(?!admin).*"), "check")
    assert "valid" in mesh.run("validate", "-f", str(lookahead)).stdout
    mesh.apply(routing(caller, "regex:^/api/(?!admin).*"), "lookahead")
    eventually(lambda: rds_nack(mesh, caller) is not None, "Envoy to NACK the routes", mesh)
    error = rds_nack(mesh, caller)
    assert error is not None and "invalid perl operator: (?!" in error
    rds = proxies(mesh)[caller.instance_id]["types"]["RDS"]
    assert rds["ackedVersion"] == good and not rds["inSync"]
    assert "NACKED" in mesh.run("proxy-status").stdout
    # Envoy keeps the last good routes and keeps serving.
    assert answered_by(caller, "backend") == backend.instance_id
    assert caller.sidecar.stat("control_plane.connected_state") == 1
    store = SQLiteStore(str(mesh.workdir / "data" / "lucid.db"))
    try:
        events = store.list(collection="event_stream", where={"eventType": "config.rejected"})
    finally:
        store.close()
    assert any(e.document["data"]["nodeId"] == caller.instance_id for e in events)
    # A configuration Envoy accepts is applied and ACKed again.
    mesh.apply(routing(caller, "regex:^/api/.*"), "fixed")
    eventually(lambda: synced(mesh, caller.instance_id), "the fixed routes to be ACKed", mesh)
    assert rds_nack(mesh, caller) is None
    assert caller.call("backend", "/api/orders").status_code == 200
