"""A gateway's own rate limits apply at its edge: every edge route gets a narrowed copy,
first, that carries the rule's token bucket; rules naming a source do not apply there."""

from __future__ import annotations

from lucid.translators.ratelimit import RATE_LIMIT_FILTER
from lucid.translators.routes import route_configurations
from tests.builders import instance, policy_rule, routing, sidecar_for, sidecar_policy
from tests.unit.translators.source_side import node

LIMIT = {"requests": 5, "unit": "minute", "burst": 5}


def edge_routes(mesh, *policies):
    state = mesh(
        [instance("gateway", 1, cluster="api-gateway", plane="ops"), instance("ledger", 2)],
        [sidecar_for(1, routing=routing(defaultRoute="ledger"), policies=list(policies))],
    )
    configs = route_configurations(state, node("gateway", edge_port=10000))
    (edge,) = [c for c in configs if c.name == "routes-edge"]
    (host,) = edge.virtual_hosts
    return list(host.routes)


def limit(**conditions):
    return sidecar_policy(
        "rate-limit",
        conditions=conditions or None,
        rules=[policy_rule("rate-limit", parameters=LIMIT)],
    )


def test_each_edge_route_gets_a_limited_copy_narrowed_to_the_conditions_first(mesh):
    routes = edge_routes(mesh, limit(path="/api/*", method="POST"))

    limited, plain = routes[: len(routes) // 2], routes[len(routes) // 2 :]
    assert [r.name for r in limited] == [
        f"{r.name}|rate-limit|rate-limit-api-calls|0" for r in plain
    ]
    for copy, original in zip(limited, plain, strict=True):
        assert copy.route == original.route
        headers = {h.name: h for h in copy.match.headers}
        assert headers[":path"].string_match.prefix == "/api/"
        assert headers[":method"].string_match.exact == "POST"
        assert RATE_LIMIT_FILTER in copy.typed_per_filter_config
        assert RATE_LIMIT_FILTER not in original.typed_per_filter_config


def test_an_exact_path_condition_matches_the_path_with_or_without_a_query(mesh):
    (copy, _original) = edge_routes(mesh, limit(path="/login"))[:2]

    path = {h.name: h for h in copy.match.headers}[":path"]
    assert path.string_match.safe_regex.regex == r"/login(\?.*)?"


def test_rules_naming_a_source_do_not_apply_at_the_edge_where_callers_are_anonymous(mesh):
    routes = edge_routes(mesh, limit(source="ledger"))

    assert not any(RATE_LIMIT_FILTER in r.typed_per_filter_config for r in routes)
