"""Scenario 3: retries. The upstream fails twice with 503: with three attempts allowed the
client sees 200 and the upstream saw three requests; with retries off the client sees the
503 and the upstream saw one.

Both routes of `web` go to the same single-instance service `flaky`; only their retry
settings differ (`maxAttempts: 3` on 5xx, and `maxAttempts: 1`, i.e. no retry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Instance, Mesh, document


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        mesh.add_instance("flaky", sidecar=False)
        mesh.register()
        retry = {
            "maxAttempts": 3,
            "initialDelay": 100,
            "maxDelay": 1000,
            "retryableErrors": ["5xx"],
        }
        routing = {
            "defaultRoute": "flaky",
            "routes": [
                {"match": {"path": "/retried/*"}, "destination": "flaky", "retry": retry},
                {"match": {"path": "/once/*"}, "destination": "flaky", "retry": {"maxAttempts": 1}},
            ],
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


@pytest.fixture
def flaky(mesh: Mesh) -> Instance:
    instance = mesh.instances["flaky-01"]
    instance.http_app.reset()
    return instance


def test_two_503s_then_success_reach_the_client_as_200_after_three_attempts(
    mesh: Mesh, flaky: Instance
) -> None:
    flaky.http_app.fail_next(2, status=503)
    answer = mesh.instances["web-01"].call("localhost", "/retried/payment")
    assert answer.status_code == 200, answer.text
    counts = flaky.http_app.counts()
    assert (counts["total"], counts["failed"]) == (3, 2)
    assert mesh.instances["web-01"].sidecar.stat("cluster.outbound|flaky.upstream_rq_retry") >= 2


def test_with_retries_off_the_client_sees_the_503(mesh: Mesh, flaky: Instance) -> None:
    flaky.http_app.fail_next(2, status=503)
    answer = mesh.instances["web-01"].call("localhost", "/once/payment")
    assert answer.status_code == 503
    assert answer.json() == {"failed": True, "instance": "flaky-01"}
    assert flaky.http_app.counts()["total"] == 1
