"""Scenario 6: active health checking. An instance whose health endpoint turns unhealthy
stops receiving traffic, and receives it again once healthy.

`pulse` has two instances whose registration asks for an HTTP check of `/health` every
5 s (the spec's minimum), one failure to mark unhealthy and one success to recover. Two
checkers then watch it: the caller's sidecar (Envoy's own active check, from the
registration's `healthCheck`) and the registry (whose verdict reaches Envoy through
EDS). The test asserts what the caller observes: no request lands on the failing
instance once either of them has seen it fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Instance, Mesh

CHECK = {
    "endpoint": "/health",
    "interval": 5,
    "timeout": 1,
    "failureThreshold": 1,
    "successThreshold": 1,
    "httpCheck": {"method": "GET"},
}
# One failed check marks it; checks run every 5 s, from two checkers: 30 s is ample.
NOTICED_WITHIN_S = 30


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        mesh.add_instance("pulse", sidecar=False, health_check=CHECK)
        mesh.add_instance("pulse", sidecar=False, health_check=CHECK)
        mesh.register()
        mesh.start_sidecar(web)
        yield mesh


def routable(web: Instance, app_port: int) -> bool:
    hosts = web.sidecar.clusters().get("outbound|pulse", [])
    return any(h.address == f"127.0.0.1:{app_port}" and h.healthy for h in hosts)


def landed(web: Instance, requests: int) -> set[str]:
    answers = [web.call("pulse", f"/beat/{n}") for n in range(requests)]
    assert {a.status_code for a in answers} == {200}
    return {a.json()["instance"] for a in answers}


def test_an_unhealthy_instance_gets_no_traffic_until_it_recovers(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    sick, well = mesh.instances["pulse-01"], mesh.instances["pulse-02"]
    web.sidecar.wait_until(
        lambda: routable(web, sick.app_port) and routable(web, well.app_port),
        what="both pulse instances to be routable",
        timeout=NOTICED_WITHIN_S,
    )
    assert landed(web, 10) == {"pulse-01", "pulse-02"}

    sick.http_app.set_health(503)
    web.sidecar.wait_until(
        lambda: not routable(web, sick.app_port),
        what="pulse-01 to be seen unhealthy",
        timeout=NOTICED_WITHIN_S,
        describe=lambda: str(web.sidecar.clusters().get("outbound|pulse")),
    )
    before = sick.http_app.counts()["total"]
    assert landed(web, 20) == {"pulse-02"}
    assert sick.http_app.counts()["total"] == before

    sick.http_app.set_health(200)
    web.sidecar.wait_until(
        lambda: routable(web, sick.app_port),
        what="pulse-01 to be healthy again",
        timeout=NOTICED_WITHIN_S,
    )
    assert landed(web, 10) == {"pulse-01", "pulse-02"}
