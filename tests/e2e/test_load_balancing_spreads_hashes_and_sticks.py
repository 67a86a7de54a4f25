"""Scenario 7: load balancing as each destination declares it, observed from a caller.

- `spread` (round robin, three instances): 300 requests land 100 on each. Sidecars run
  one worker thread, and Envoy's round robin over equally weighted, healthy hosts is a
  strict rotation per worker, so the split is exact (a spread of 1 is allowed for a host
  set that changed mid-run).
- `ring` (consistent hash on the `x-user` header): every request of a user lands on one
  instance, and 30 users do not all land on the same one (with three instances the
  chance of that is about 3 x (1/3)^30 for an even ring: negligible).
- `sticky` (round robin with a sticky-session cookie): the first answer sets the cookie;
  requests that carry it stay on that instance, requests without it keep rotating.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.e2e.harness.mesh import Instance, Mesh, document

COOKIE = "lucid-session"


def sidecar_config(instance: Instance, load_balancing: dict[str, Any]) -> dict[str, Any]:
    routing = {"defaultRoute": instance.service, "loadBalancing": load_balancing}
    return document(
        "SidecarConfiguration",
        {"serviceId": instance.service_id, "policies": [], "routing": routing},
    )


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        first = {}
        for name in ("spread", "ring", "sticky"):
            instances = [mesh.add_instance(name, sidecar=False) for _ in range(3)]
            first[name] = instances[0]
        mesh.register()
        mesh.apply(
            [
                sidecar_config(first["spread"], {"algorithm": "round-robin"}),
                sidecar_config(
                    first["ring"], {"algorithm": "consistent-hash", "hashOn": "header:x-user"}
                ),
                sidecar_config(
                    first["sticky"],
                    {
                        "algorithm": "round-robin",
                        "stickySession": {"enabled": True, "cookie": COOKIE, "ttl": 600},
                    },
                ),
            ],
            "load-balancing",
        )
        mesh.start_sidecar(web)
        yield mesh


def instance_of(web: Instance, service: str, path: str, **kwargs: Any) -> str:
    answer = web.call(service, path, **kwargs)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["instance"])


def test_round_robin_spreads_requests_evenly(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    landed = Counter(instance_of(web, "spread", f"/r/{n}") for n in range(300))
    assert set(landed) == {"spread-01", "spread-02", "spread-03"}
    assert max(landed.values()) - min(landed.values()) <= 1, landed


def test_consistent_hash_keeps_each_users_requests_on_one_instance(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    homes = {}
    for user in range(30):
        seen = {
            instance_of(web, "ring", f"/h/{n}", headers={"x-user": f"user-{user}"})
            for n in range(5)
        }
        assert len(seen) == 1, (user, seen)
        homes[user] = seen.pop()
    assert len(set(homes.values())) > 1, homes


def test_a_sticky_session_cookie_keeps_a_client_on_one_instance(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    first = web.call("sticky", "/cart")
    assert first.status_code == 200
    assert COOKIE in first.cookies, first.headers
    home = first.json()["instance"]
    cookie = {COOKIE: first.cookies[COOKIE]}
    stuck = {instance_of(web, "sticky", f"/cart/{n}", cookies=cookie) for n in range(12)}
    assert stuck == {home}
    free = {instance_of(web, "sticky", f"/browse/{n}") for n in range(6)}
    assert len(free) == 3, free
