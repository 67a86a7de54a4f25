"""Scenario 9: mirroring and redirects, both declared in traffic policies from `web`.

- Mirror: everything `web` sends to `primary` is copied to `shadow` (percentage 100).
  The client only ever sees `primary`'s answers; `shadow` receives each request (Envoy
  marks copies by appending `-shadow` to the authority) and its answers go nowhere, so
  even a failing shadow changes nothing for the client.
- Redirect: `web`'s requests to `moved` under `/old/*` are answered by `web`'s own sidecar
  with 308 and a Location under `/new/home` (a prefix match moves its whole subtree:
  `/old/page` → `/new/home/page`, as the examples' `/api/v0/payments/*` redirect needs),
  without reaching the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from tests.e2e.harness.mesh import Mesh, document
from tests.e2e.harness.processes import wait_until

COPIES = 10


def traffic_policy(name: str, destination: str, rule: dict[str, Any]) -> dict[str, Any]:
    return document(
        "TrafficPolicy",
        {"name": name, "source": "web", "destination": destination, "rules": [rule]},
    )


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        for name in ("primary", "shadow", "moved"):
            mesh.add_instance(name, sidecar=False)
        mesh.register()
        mirror = {"action": "mirror", "parameters": {"destination": "shadow", "percentage": 100}}
        redirect = {
            "action": "redirect",
            "match": {"path": "/old/*"},
            "parameters": {"target": "/new/home", "statusCode": 308},
        }
        mesh.apply(
            [
                traffic_policy("primary-to-shadow", "primary", mirror),
                traffic_policy("old-pages-moved", "moved", redirect),
            ],
            "mirror-and-redirect",
        )
        mesh.start_sidecar(web)
        yield mesh


def test_the_shadow_receives_copies_and_the_client_sees_only_the_primary(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    primary, shadow = mesh.instances["primary-01"].http_app, mesh.instances["shadow-01"].http_app
    shadow.fail_next(COPIES, status=500)
    answers = [web.call("primary", f"/orders/{n}", "POST", content=b"x") for n in range(COPIES)]
    assert {(a.status_code, a.json()["instance"]) for a in answers} == {(200, "primary-01")}
    assert primary.counts()["total"] == COPIES

    # Copies are sent alongside the request, not before its answer: wait for them.
    wait_until(
        lambda: shadow.counts()["total"] == COPIES,
        timeout=10,
        what="the shadow to receive every copy",
        describe=lambda: str(shadow.counts()),
    )
    copies = shadow.requests()
    assert sorted(c["path"] for c in copies) == sorted(f"/orders/{n}" for n in range(COPIES))
    assert {c["headers"]["host"] for c in copies} == {"primary-shadow"}
    assert {c["method"] for c in copies} == {"POST"}


def test_a_redirect_rule_answers_with_its_status_and_location(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    answer = web.call("moved", "/old/page?x=1")
    assert answer.status_code == 308
    location = httpx.URL(answer.headers["location"])
    assert (location.path, location.params.get("x")) == ("/new/home/page", "1")
    assert mesh.instances["moved-01"].http_app.counts()["total"] == 0
    assert web.call("moved", "/current").status_code == 200
