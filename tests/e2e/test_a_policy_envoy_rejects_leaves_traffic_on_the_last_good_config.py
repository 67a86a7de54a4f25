"""Scenario 13: a policy Envoy rejects (a NACK) leaves traffic flowing on the previous
configuration, and `lucid get` on that policy shows the rejection.

`web` sends `/api/*` to `shop` through a canary split. A second traffic policy narrows the
canary with a path regex using a lookahead: Lucid's validation (Python `re`) accepts it,
Envoy (RE2) refuses it and NACKs the route configuration. Requests keep being answered by
the last good routes, `lucid proxy-status` shows the NACK, and `lucid get
trafficpolicies <name>` shows that this policy was rejected, with Envoy's reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.e2e.harness.load import SteadyLoad
from tests.e2e.harness.mesh import Mesh, document
from tests.e2e.harness.processes import wait_until

WAIT_S = 30  # a hang guard
LOOKAHEAD = "regex:^/api/(?!admin).*"
ENVOY_REASON = "invalid perl operator: (?!"


def canary(name: str, path: str, priority: int) -> dict[str, Any]:
    destinations = [
        {"destination": "shop-v1", "weight": 50},
        {"destination": "shop-v2", "weight": 50},
    ]
    return document(
        "TrafficPolicy",
        {
            "name": name,
            "source": "web",
            "destination": "shop",
            "priority": priority,
            "rules": [
                {
                    "action": "weighted-split",
                    "match": {"path": path},
                    "parameters": {"destinations": destinations},
                }
            ],
        },
    )


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        for name in ("shop", "shop-v1", "shop-v2"):
            mesh.add_instance(name, sidecar=False)
        mesh.register()
        mesh.apply([canary("shop-canary", "/api/*", 100)], "canary")
        mesh.start_sidecar(web)
        yield mesh


def rds_status(mesh: Mesh, node: str) -> dict[str, Any]:
    data = json.loads(mesh.run("proxy-status", "-o", "json").stdout)
    [proxy] = [p for p in data["items"] if p["nodeId"] == node]
    return dict(proxy["types"]["RDS"])


def test_a_rejected_policy_keeps_traffic_on_the_last_good_routes_and_shows_why(
    mesh: Mesh,
) -> None:
    web = mesh.instances["web-01"]
    wait_until(
        lambda: bool(rds_status(mesh, "web-01").get("inSync")),
        timeout=WAIT_S,
        what="web's routes to be ACKed",
    )
    good = rds_status(mesh, "web-01")["ackedVersion"]
    checked = mesh.run("validate", "-f", str(mesh.write_manifest([canary("x", LOOKAHEAD, 1)], "v")))
    assert "valid" in checked.stdout, "Lucid itself must accept the policy for this scenario"

    with SteadyLoad(web.outbound_url, "shop", "/api/orders/") as load:
        load.wait_for(0, lambda s: s.ok, timeout=WAIT_S, what="traffic to shop")
        mesh.apply([canary("shop-canary-narrow", LOOKAHEAD, 500)], "rejected")
        wait_until(
            lambda: rds_status(mesh, "web-01").get("nack") is not None,
            timeout=WAIT_S,
            what="Envoy to NACK the routes",
        )
        rds = rds_status(mesh, "web-01")
        assert ENVOY_REASON in rds["nack"]["error"]
        assert rds["ackedVersion"] == good
        load.wait_for(
            load.samples()[-1].sent, lambda s: s.ok, timeout=WAIT_S, what="traffic after the NACK"
        )
    assert load.failures() == [], load.failures()[:5]
    assert {s.instance for s in load.samples()} <= {"shop-v1-01", "shop-v2-01"}
    assert web.sidecar.stat("control_plane.connected_state") == 1

    shown = mesh.run("get", "trafficpolicies", "shop-canary-narrow", "-o", "yaml").stdout
    assert "rejected" in shown.lower() and ENVOY_REASON in shown, shown
    assert "web-01" in shown, "the rejection names the proxy that refused it"
