"""A real Envoy bootstrapped by `lucid bootstrap` receives its configuration over ADS (SotW
or delta), ACKs every type, and carries traffic to a real upstream; the operator sees it
synced in `lucid proxy-status` and what it was sent in `lucid config-dump`."""

from __future__ import annotations

import json

from tests.e2e.harness.mesh import Mesh
from tests.envoy.conftest import (
    TRANSPORTS,
    answered_by,
    caller_and_backend,
    eventually,
    proxies,
    synced,
)


@TRANSPORTS
def test_a_sidecar_acks_its_config_and_carries_traffic(mesh: Mesh, delta: bool) -> None:
    caller, backend = caller_and_backend(mesh, delta=delta)
    assert answered_by(caller, "backend") == backend.instance_id
    eventually(lambda: synced(mesh, caller.instance_id), "the caller to be in sync", mesh)
    eventually(lambda: synced(mesh, backend.instance_id), "the backend to be in sync", mesh)
    status = proxies(mesh)[caller.instance_id]
    assert status["transport"] == ("delta" if delta else "sotw")
    assert status["service"] == "caller" and status["api"] == "ADS"
    table = mesh.run("proxy-status").stdout
    assert caller.instance_id in table and "SYNCED" in table and "NACKED" not in table


@TRANSPORTS
def test_config_dump_shows_what_the_sidecar_was_sent(mesh: Mesh, delta: bool) -> None:
    caller, _ = caller_and_backend(mesh, delta=delta)
    eventually(lambda: synced(mesh, caller.instance_id), "the caller to be in sync", mesh)
    dump = json.loads(mesh.run("config-dump", caller.instance_id).stdout)
    (stream,) = dump["streams"]
    clusters = {r["name"]: r for r in stream["types"]["CDS"]["resources"]}
    assert clusters["outbound|backend"]["state"] == "ACKED"
    # Envoy holds the very versions the control plane says it sent.
    dynamic = caller.sidecar.config_dump("dynamic_active_clusters")
    held = {c["cluster"]["name"]: c["version_info"] for c in dynamic["configs"]}
    if delta:
        assert held["outbound|backend"] == clusters["outbound|backend"]["version"]
    else:
        assert held["outbound|backend"] == stream["types"]["CDS"]["version"]
    missing = mesh.lucid("config-dump", "nobody-01")
    assert missing.returncode == 1 and "LUCID_ERR_1104" in missing.stderr
