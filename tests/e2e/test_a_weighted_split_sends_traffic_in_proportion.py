"""Scenario 2: a weighted split of 80/20 over 1,000 requests lands within tolerance.

`web` calls `shop`; a traffic policy splits that traffic 80/20 between `shop-v1` and
`shop-v2` (two registered services, as a canary would be). Envoy draws each request's
cluster at random in proportion to the weights, so the count that reaches `shop-v2` is
binomial: n = 1,000, p = 0.2, mean 200, standard deviation sqrt(1000 x 0.2 x 0.8) = 12.6.
The test accepts 200 ± 63 (five standard deviations, 13.7 % to 26.3 %): a correct split
fails it with probability about 6e-7, while a split ignored (0 or 1,000), inverted (800),
or even (500) is far outside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Instance, Mesh, document

REQUESTS = 1000
CANARY_SHARE = 0.2
TOLERANCE = 5 * (REQUESTS * CANARY_SHARE * (1 - CANARY_SHARE)) ** 0.5  # five sigma: 63.2


@pytest.fixture(scope="module")
def mesh(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        mesh.add_instance("web", cluster="api-gateway")
        for name in ("shop", "shop-v1", "shop-v2"):
            mesh.add_instance(name, sidecar=False)
        mesh.register()
        split = {
            "destinations": [
                {"destination": "shop-v1", "weight": 80},
                {"destination": "shop-v2", "weight": 20},
            ]
        }
        mesh.apply(
            [
                document(
                    "TrafficPolicy",
                    {
                        "name": "shop-canary",
                        "source": "web",
                        "destination": "shop",
                        "rules": [{"action": "weighted-split", "parameters": split}],
                    },
                )
            ],
            "split",
        )
        mesh.start_sidecar(mesh.instances["web-01"])
        yield mesh


def test_eighty_twenty_split_over_a_thousand_requests_lands_within_five_sigma(
    mesh: Mesh,
) -> None:
    web: Instance = mesh.instances["web-01"]
    landed: Counter[str] = Counter()
    for number in range(REQUESTS):
        answer = web.call("shop", f"/catalogue/{number}")
        assert answer.status_code == 200, answer.text
        landed[answer.json()["instance"]] += 1
    assert set(landed) == {"shop-v1-01", "shop-v2-01"}, landed
    assert abs(landed["shop-v2-01"] - REQUESTS * CANARY_SHARE) <= TOLERANCE, landed
    assert mesh.instances["shop-01"].http_app.counts()["total"] == 0
