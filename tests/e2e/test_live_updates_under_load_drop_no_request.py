"""Scenario 12: live updates under load. While steady streams of requests flow through
`web`'s sidecar, the mesh changes four times, and not one request fails:

1. route weights: the split of `shop` moves from 100/0 (v1/v2) to 0/100;
2. a destination is added: a second `shop-v2` instance registers and gets traffic;
3. a policy is rotated: `vault`'s allow rule for `web` is replaced by a new policy (a new
   one applied, then the old one deleted); the paths both allow never see a 403, and
   vault's listener is not updated (its connections are not drained);
4. a destination is removed: the added instance is deregistered and gets no more traffic.

For each change the time from the `lucid apply`/`delete` command to the first answer
showing it is recorded and printed at the end of the run (it includes the CLI call, the
control plane's debounce and translation, the xDS push and Envoy applying it). No
assertion is made on those times: only on what the traffic saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.e2e.harness.load import Sample, SteadyLoad
from tests.e2e.harness.mesh import Mesh, document
from tests.e2e.harness.processes import wait_until

WAIT_S = 30  # a hang guard: how long a change may take before the test gives up
SETTLE_S = 1.0  # a change has settled once every answer for this long shows it


def split(v1: int, v2: int) -> dict[str, Any]:
    destinations = [
        {"destination": "shop-v1", "weight": v1},
        {"destination": "shop-v2", "weight": v2},
    ]
    return document(
        "TrafficPolicy",
        {
            "name": "shop-rollout",
            "source": "web",
            "destination": "shop",
            "rules": [{"action": "weighted-split", "parameters": {"destinations": destinations}}],
        },
    )


def allow(name: str, *paths: str) -> dict[str, Any]:
    return document(
        "SecurityPolicy",
        {
            "name": name,
            "source": "web",
            "destination": "vault",
            "rules": [{"action": "allow", "match": {"path": path}} for path in paths],
        },
    )


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        for name in ("shop", "shop-v1", "shop-v2"):
            mesh.add_instance(name, sidecar=False)
        vault = mesh.add_instance("vault")
        mesh.register()
        mesh.apply([split(100, 0), allow("vault-allow-v1", "/orders/*", "/legacy/*")], "start")
        mesh.start_sidecars(web, vault)
        yield mesh


def from_service(service: str) -> Callable[[Sample], bool]:
    return lambda s: s.ok and (s.instance or "").rsplit("-", 1)[0] == service


def no_failure_yet(when: str, *loads: SteadyLoad) -> None:
    for load in loads:
        assert load.failures() == [], f"{load.destination}, {when}: {load.failures()[:5]}"


def test_weights_destinations_and_policies_change_under_load_without_a_failed_request(
    mesh: Mesh, propagation: dict[str, float]
) -> None:
    web = mesh.instances["web-01"]
    with (
        SteadyLoad(web.outbound_url, "shop", "/item/") as shop,
        SteadyLoad(web.outbound_url, "vault", "/orders/") as vault,
    ):
        shop.wait_for(0, from_service("shop-v1"), timeout=WAIT_S, what="traffic to shop-v1")
        vault.wait_for(0, lambda s: s.ok, timeout=WAIT_S, what="traffic to vault")

        started = time.monotonic()
        mesh.apply([split(0, 100)], "weights")
        first = shop.wait_for(started, from_service("shop-v2"), timeout=WAIT_S, what="v2 traffic")
        propagation["route weights 100/0 → 0/100"] = first.answered - started
        shop.wait_settled(
            started, from_service("shop-v2"), settle=SETTLE_S, timeout=WAIT_S, what="all on v2"
        )
        no_failure_yet("after the weight change", shop, vault)

        added = mesh.add_instance("shop-v2", sidecar=False)
        started = time.monotonic()
        mesh.register(added)
        first = shop.wait_for(
            started,
            lambda s: s.instance == added.instance_id,
            timeout=WAIT_S,
            what="traffic to the added instance",
        )
        propagation["destination added (instance registered)"] = first.answered - started
        no_failure_yet("after adding a destination", shop, vault)

        # Access rules travel with vault's route configuration: its listener, whose update
        # would drain the connections web's sidecar holds to it, stays as it is.
        sidecar = mesh.instances["vault-01"].sidecar
        listener_updates = sidecar.stats()["listener_manager.listener_modified"]
        started = time.monotonic()
        mesh.apply([allow("vault-allow-v2", "/orders/*", "/next/*")], "rotate-new")
        wait_until(
            lambda: web.call("vault", "/next/1").status_code == 200,
            timeout=WAIT_S,
            what="the new policy to allow /next/*",
        )
        propagation["policy rotated: new policy in force"] = time.monotonic() - started
        started = time.monotonic()
        mesh.delete([allow("vault-allow-v1", "/orders/*", "/legacy/*")], "rotate-old")
        wait_until(
            lambda: web.call("vault", "/legacy/1").status_code == 403,
            timeout=WAIT_S,
            what="the old policy to be gone",
        )
        propagation["policy rotated: old policy gone"] = time.monotonic() - started
        no_failure_yet("after rotating the policy", shop, vault)
        assert sidecar.stat("listener_manager.listener_modified") == listener_updates
        started = time.monotonic()
        mesh.deregister(added)
        last = shop.wait_settled(
            started,
            lambda s: s.instance != added.instance_id,
            settle=SETTLE_S,
            timeout=WAIT_S,
            what="no more traffic to the removed instance",
        )
        propagation["destination removed (instance deregistered)"] = last - started
        added.close()

        # Keep the streams going a moment after the last change.
        time.sleep(SETTLE_S)

    no_failure_yet("after removing a destination", shop, vault)
    for load in (shop, vault):
        assert len(load.samples()) > 100, f"{load.destination}: the load was not steady"
