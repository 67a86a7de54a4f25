"""A caller's own health checks pass a mTLS destination that allows that caller only some
paths.

Each caller's sidecar runs the destination's active health check itself, over mesh mTLS
with its own certificate. `ledger` denies by default and allows `web` only
`/entries/*`; its health check is `GET /health` every 5 s (the least allowed), unhealthy after
one failure. `web`'s sidecar must see ledger's instance healthy (its checks get 200), so
that `web` can call what it is allowed to, while the paths it is not allowed stay 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Mesh, document

CHECK = {
    "endpoint": "/health",
    "interval": 5,
    "timeout": 2,
    "failureThreshold": 1,
    "httpCheck": {"method": "GET"},
}


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web")
        ledger = mesh.add_instance("ledger", health_check=CHECK)
        mesh.register()
        security = {"mTLS": {"enabled": True}, "authorization": {"policy": "rbac"}}
        spec = {
            "serviceId": ledger.service_id,
            "policies": [],
            "routing": {"defaultRoute": "ledger"},
            "security": security,
        }
        only_entries = {
            "name": "web-reads-entries",
            "source": "web",
            "destination": "ledger",
            "rules": [{"action": "allow", "match": {"path": "/entries/*"}}],
        }
        mesh.apply(
            [document("SidecarConfiguration", spec), document("TrafficPolicy", only_entries)],
            "ledger",
        )
        mesh.start_sidecar(ledger)  # ready before web's first check
        mesh.start_sidecar(web)
        yield mesh


def test_the_callers_checks_pass_and_it_reaches_what_it_is_allowed(mesh: Mesh) -> None:
    web = mesh.instances["web-01"].sidecar
    checks = "cluster.outbound|ledger.health_check"
    web.wait_until(
        lambda: web.stat(f"{checks}.success") + web.stat(f"{checks}.failure") >= 2,
        timeout=20,
        what="two health checks of ledger answered",
        describe=lambda: str(web.stats_matching("outbound|ledger.health_check")),
    )

    [host] = web.clusters()["outbound|ledger"]
    assert not host.failed_health_check
    assert web.stat(f"{checks}.failure") == 0
    caller = mesh.instances["web-01"]
    assert caller.call("ledger", "/entries/7").status_code == 200
    assert caller.call("ledger", "/accounts/7").status_code == 403
    assert caller.call("ledger", "/health").status_code == 403  # the app's call is web's
