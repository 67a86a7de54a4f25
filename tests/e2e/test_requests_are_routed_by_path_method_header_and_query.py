"""Scenario 1: a sidecar routes by path prefix, exact path, method, header and query
parameter, and its default route catches the rest.

The caller `web` names no destination (`Host: localhost`), so its own routing table
decides: routes in their order, first match wins, then `defaultRoute`. Each destination is
a separate service whose app answers with its instance name, so the answer says which
route Envoy took.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Instance, Mesh, document

DESTINATIONS = ("exact-svc", "prefix-svc", "method-svc", "header-svc", "query-svc", "default-svc")


@pytest.fixture(scope="module")
def web(mesh_in: Callable[..., AbstractContextManager[Mesh]]) -> Iterator[Instance]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        for name in DESTINATIONS:
            mesh.add_instance(name, sidecar=False)
        mesh.register()
        routing = {
            "defaultRoute": "default-svc",
            "routes": [
                {"match": {"path": "/orders/latest"}, "destination": "exact-svc"},
                {"match": {"path": "/orders/*"}, "destination": "prefix-svc"},
                {"match": {"path": "/items/*", "method": "DELETE"}, "destination": "method-svc"},
                {"match": {"headers": {"x-tier": "gold"}}, "destination": "header-svc"},
                {"match": {"query": {"flavour": "beta"}}, "destination": "query-svc"},
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
        yield web


def lands_on(web: Instance, path: str, method: str = "GET", **headers: str) -> str:
    answer = web.call("localhost", path, method, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["instance"])


def test_an_exact_path_wins_over_the_prefix_route_after_it(web: Instance) -> None:
    assert lands_on(web, "/orders/latest") == "exact-svc-01"
    assert lands_on(web, "/orders/latest/2") == "prefix-svc-01"


def test_a_path_prefix_route_takes_every_path_below_it(web: Instance) -> None:
    assert lands_on(web, "/orders/17") == "prefix-svc-01"
    assert lands_on(web, "/orders/17/lines?x=1") == "prefix-svc-01"


def test_a_method_route_takes_only_its_method(web: Instance) -> None:
    assert lands_on(web, "/items/3", "DELETE") == "method-svc-01"
    assert lands_on(web, "/items/3", "GET") == "default-svc-01"


def test_a_header_route_takes_requests_carrying_the_header_value(web: Instance) -> None:
    assert lands_on(web, "/anything", **{"x-tier": "gold"}) == "header-svc-01"
    assert lands_on(web, "/anything", **{"x-tier": "silver"}) == "default-svc-01"


def test_a_query_parameter_route_takes_requests_with_that_parameter(web: Instance) -> None:
    assert lands_on(web, "/search?flavour=beta&q=x") == "query-svc-01"
    assert lands_on(web, "/search?flavour=stable") == "default-svc-01"


def test_the_default_route_catches_everything_else(web: Instance) -> None:
    assert lands_on(web, "/") == "default-svc-01"
    assert lands_on(web, "/unmatched/path", "POST") == "default-svc-01"


def test_the_path_and_query_reach_the_app_unchanged(web: Instance) -> None:
    answer = web.call("localhost", "/orders/9?a=1&b=two").json()
    assert (answer["path"], answer["query"], answer["source"]) == (
        "/orders/9",
        {"a": "1", "b": "two"},
        "web",
    )
