"""Scenario 8: local rate limiting at the destination's inbound sidecar.

`meter` allows 5 requests per hour on `/api/*` (a bucket of 5 that refills once an hour,
so nothing refills while the test runs). The first 5 calls from `web` reach the app; the
rest are answered 429 by `meter`'s sidecar and never reach it. Paths outside the policy's
conditions are not limited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Mesh, document

LIMIT = 5


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        meter = mesh.add_instance("meter")
        mesh.register()
        limit = {
            "policyId": "meter-api-limit",
            "type": "rate-limit",
            "conditions": {"path": "/api/*"},
            "rules": [
                {
                    "action": "rate-limit",
                    "parameters": {"requests": LIMIT, "unit": "hour", "burst": LIMIT},
                }
            ],
        }
        mesh.apply(
            [
                document(
                    "SidecarConfiguration",
                    {
                        "serviceId": meter.service_id,
                        "policies": [limit],
                        "routing": {"defaultRoute": "meter"},
                    },
                )
            ],
            "meter-limit",
        )
        mesh.start_sidecars(web, meter)
        yield mesh


def test_requests_past_the_bucket_get_429_and_never_reach_the_app(mesh: Mesh) -> None:
    web, meter = mesh.instances["web-01"], mesh.instances["meter-01"]
    answers = [web.call("meter", f"/api/reading/{n}") for n in range(3 * LIMIT)]
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * LIMIT + [429] * (2 * LIMIT), statuses
    assert meter.http_app.counts()["total"] == LIMIT
    refused = answers[-1]
    assert (refused.text, refused.headers["x-ratelimit-limit"]) == ("local_rate_limited", "5")
    limited = meter.sidecar.stats_matching("http_local_rate_limit.rate_limited")
    assert sum(limited.values()) == 2 * LIMIT, limited


def test_paths_outside_the_policy_are_not_limited(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    statuses = {web.call("meter", f"/status/{n}").status_code for n in range(3 * LIMIT)}
    assert statuses == {200}
