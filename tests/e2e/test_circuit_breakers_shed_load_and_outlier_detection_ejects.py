"""Scenario 5: circuit breaking and outlier detection on the caller's cluster for `vault`.

`vault` (two instances) declares a circuit-break policy: at most 1 connection and 1
pending request, eject an instance after 3 consecutive 5xx for 2 s. Its callers' sidecars
enforce that on their `outbound|vault` cluster:

- concurrent requests beyond the connection and pending limits are answered by Envoy
  itself with 503 and `x-envoy-overloaded: true`, without reaching the app;
- an instance that keeps failing is ejected and traffic goes to the healthy one; after
  the recovery timeout it gets traffic again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import httpx
import pytest

from tests.e2e.harness.mesh import Instance, Mesh, document

CONCURRENT = 8
FAILURES_TO_EJECT = 3
RECOVERY_S = 2
# Envoy checks ejected hosts on its outlier-detection interval (10 s by default, which
# the translation leaves as is), so a host returns within recoveryTimeout + 10 s.
RETURN_WITHIN_S = RECOVERY_S + 10 + 10


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        vault = mesh.add_instance("vault", sidecar=False)
        mesh.add_instance("vault", sidecar=False)
        mesh.register()
        breaker = {
            "policyId": "vault-breaker",
            "type": "circuit-breaker",
            "rules": [
                {
                    "action": "circuit-break",
                    "parameters": {
                        "failureThreshold": FAILURES_TO_EJECT,
                        "recoveryTimeout": RECOVERY_S,
                        "errorTypes": ["5xx"],
                        "maxConnections": 1,
                        "maxPendingRequests": 1,
                    },
                }
            ],
        }
        mesh.apply(
            [
                document(
                    "SidecarConfiguration",
                    {
                        "serviceId": vault.service_id,
                        "policies": [breaker],
                        "routing": {"defaultRoute": "vault"},
                    },
                )
            ],
            "vault-breaker",
        )
        mesh.start_sidecar(web)
        yield mesh


@pytest.fixture
def vaults(mesh: Mesh) -> list[Instance]:
    instances = [mesh.instances["vault-01"], mesh.instances["vault-02"]]
    for instance in instances:
        instance.http_app.reset()
    return instances


def test_requests_beyond_the_limits_get_503_overloaded_from_envoy(
    mesh: Mesh, vaults: list[Instance]
) -> None:
    web = mesh.instances["web-01"]
    for vault in vaults:
        vault.http_app.delay(1500)

    def one(number: int) -> httpx.Response:
        with httpx.Client(base_url=web.outbound_url, timeout=30) as client:
            return client.get(f"/secret/{number}", headers={"host": "vault"})

    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(one, range(CONCURRENT)))
    for vault in vaults:
        vault.http_app.delay(0)
    overloaded = [a for a in answers if a.headers.get("x-envoy-overloaded") == "true"]
    served = [a for a in answers if a.status_code == 200]
    assert overloaded and served, [a.status_code for a in answers]
    assert all(a.status_code == 503 for a in overloaded)
    assert len(overloaded) + len(served) == CONCURRENT
    reached = sum(vault.http_app.counts()["total"] for vault in vaults)
    assert reached == len(served)
    assert web.sidecar.stat("cluster.outbound|vault.upstream_rq_pending_overflow") == len(
        overloaded
    )


def test_a_failing_instance_is_ejected_and_returns_after_the_recovery_timeout(
    mesh: Mesh, vaults: list[Instance]
) -> None:
    web = mesh.instances["web-01"]
    broken, healthy = vaults
    broken.http_app.fail_next(1000, status=503)
    statuses = [web.call("vault", f"/secret/{n}").status_code for n in range(2 * FAILURES_TO_EJECT)]
    assert statuses.count(503) == FAILURES_TO_EJECT, statuses

    web.sidecar.wait_until(
        lambda: any(h.ejected for h in web.sidecar.clusters()["outbound|vault"]),
        what="vault-01 to be ejected",
        timeout=10,
        describe=lambda: str(web.sidecar.stats_matching("outbound|vault", "outlier")),
    )
    after = [web.call("vault", f"/after/{n}") for n in range(20)]
    assert {(a.status_code, a.json()["instance"]) for a in after} == {(200, healthy.instance_id)}
    assert broken.http_app.counts()["total"] == FAILURES_TO_EJECT

    broken.http_app.reset()
    web.sidecar.wait_until(
        lambda: not any(h.ejected for h in web.sidecar.clusters()["outbound|vault"]),
        what="vault-01 to return after the recovery timeout",
        timeout=RETURN_WITHIN_S,
    )
    back = {web.call("vault", f"/back/{n}").json()["instance"] for n in range(10)}
    assert back == {broken.instance_id, healthy.instance_id}
