"""Scenario 11: access logs. Each sidecar prints one JSON line per request, with the
fields the translation promises (`ACCESS_LOG_FIELDS`), on both ends of a call.

`web` calls `ledger` (mesh mTLS on): the caller's outbound line and the destination's
inbound line describe the same request (same `x-request-id`); the inbound one knows the
caller by its certificate (`peer_identity`) and by `x-lucid-source`. `quiet` logs at
level `warn`, so only its failed requests leave a line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from lucid.translators.hcm import ACCESS_LOG_FIELDS
from tests.e2e.harness.mesh import Instance, Mesh, document
from tests.e2e.harness.processes import wait_until


def sidecar(instance: Instance, **extra: Any) -> dict[str, Any]:
    spec = {
        "serviceId": instance.service_id,
        "policies": [],
        "routing": {"defaultRoute": instance.service},
        **extra,
    }
    return document("SidecarConfiguration", spec)


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        ledger = mesh.add_instance("ledger")
        quiet = mesh.add_instance("quiet")
        mesh.register()
        mesh.apply(
            [
                sidecar(ledger, security={"mTLS": {"enabled": True}}),
                sidecar(quiet, monitoring={"logging": {"level": "warn", "format": "json"}}),
            ],
            "logging",
        )
        mesh.start_sidecars(web, ledger, quiet)
        yield mesh


def line_for(instance: Instance, request_id: str) -> dict[str, Any]:
    def entries() -> list[dict[str, Any]]:
        return [e for e in instance.sidecar.access_log_entries() if e["request_id"] == request_id]

    wait_until(lambda: bool(entries()), timeout=10, what=f"{instance.instance_id}'s log line")
    [entry] = entries()
    return entry


def test_both_ends_log_the_request_with_every_promised_field(mesh: Mesh) -> None:
    web, ledger = mesh.instances["web-01"], mesh.instances["ledger-01"]
    answer = web.call("ledger", "/entries/42?page=2", "PUT", content=b"12345")
    assert answer.status_code == 200
    request_id = answer.json()["headers"]["x-request-id"]

    outbound, inbound = line_for(web, request_id), line_for(ledger, request_id)
    for entry in (outbound, inbound):
        assert set(entry) == set(ACCESS_LOG_FIELDS), entry
        assert (entry["method"], entry["path"], entry["status"]) == (
            "PUT",
            "/entries/42?page=2",
            200,
        )
        assert (entry["authority"], entry["source"], entry["bytes_received"]) == (
            "ledger",
            "web",
            5,
        )
        assert entry["response_flags"] == "-" and entry["start_time"]
    assert outbound["upstream_cluster"] == "outbound|ledger"
    assert outbound["upstream_host"] == f"127.0.0.1:{ledger.inbound_port}"
    assert inbound["upstream_host"] == f"127.0.0.1:{ledger.app_port}"
    assert inbound["peer_identity"] == "spiffe://lucid.mesh/plane/ops/service/web"
    assert outbound["peer_identity"] is None


def test_a_warn_level_sidecar_logs_only_failed_requests(mesh: Mesh) -> None:
    web, quiet = mesh.instances["web-01"], mesh.instances["quiet-01"]
    ok = web.call("quiet", "/fine", headers={"x-request-id": f"fine-{uuid.uuid4()}"})
    quiet.http_app.fail_next(1, status=500)
    broken_id = f"broken-{uuid.uuid4()}"
    failed = web.call("quiet", "/broken", headers={"x-request-id": broken_id})
    assert (ok.status_code, failed.status_code) == (200, 500)
    entry = line_for(quiet, broken_id)
    assert (entry["path"], entry["status"]) == ("/broken", 500)
    assert line_for(web, broken_id)["status"] == 500
    assert [e["path"] for e in quiet.sidecar.access_log_entries()] == ["/broken"]
