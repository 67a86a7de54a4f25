"""Scenario 4: timeouts. A slow upstream gets a 504 after the configured request timeout.

`web` routes `/slow/*` to `sloth` with a 1 s request timeout (the spec's minimum); the app
is told to answer after 5 s. Envoy answers 504 with the `UT` (upstream request timeout)
response flag in its access log, and a request the app answers at once still gets 200.
Nothing here measures elapsed time: the status and the flag are the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Instance, Mesh, document
from tests.e2e.harness.processes import wait_until


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        mesh.add_instance("sloth", sidecar=False)
        mesh.register()
        routing = {
            "defaultRoute": "sloth",
            "routes": [{"match": {"path": "/slow/*"}, "destination": "sloth", "timeout": 1000}],
        }
        mesh.apply(
            [
                document(
                    "SidecarConfiguration",
                    {"serviceId": web.service_id, "policies": [], "routing": routing},
                )
            ],
            "web-routing",
        )
        mesh.start_sidecar(web)
        yield mesh


def test_a_request_slower_than_the_timeout_gets_504(mesh: Mesh) -> None:
    web: Instance = mesh.instances["web-01"]
    sloth = mesh.instances["sloth-01"].http_app
    sloth.delay(5000, count=1)
    answer = web.call("localhost", "/slow/report")
    assert answer.status_code == 504
    assert answer.text == "upstream request timeout"
    assert sloth.counts()["total"] == 1

    def logged() -> bool:
        return any(e.get("path") == "/slow/report" for e in web.sidecar.access_log_entries())

    wait_until(logged, timeout=10, what="the access-log line of the timed-out request")
    [entry] = [e for e in web.sidecar.access_log_entries() if e.get("path") == "/slow/report"]
    assert (entry["status"], entry["response_flags"]) == (504, "UT")


def test_a_prompt_answer_on_the_same_route_is_not_cut_off(mesh: Mesh) -> None:
    answer = mesh.instances["web-01"].call("localhost", "/slow/ping")
    assert answer.status_code == 200
