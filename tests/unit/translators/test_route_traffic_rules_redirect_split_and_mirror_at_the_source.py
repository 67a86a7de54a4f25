"""Traffic rules compiled into the source's outbound routes: redirect, weighted split and
mirror, in priority order, for the sources and destinations they select."""

from __future__ import annotations

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.type.v3 import percent_pb2

from tests.builders import instance, route, routing, sidecar_for, traffic_policy, traffic_rule
from tests.unit.translators.source_side import outbound_routes, routes_to, vhost

SPLIT = {
    "destinations": [
        {"destination": "ledger", "weight": 90},
        {"destination": "ledger-canary", "weight": 10},
    ]
}


def registrations(gateway_metadata=None, ledger_metadata=None):
    return [
        instance("gateway", 1, metadata=gateway_metadata or {}),
        instance("ledger", 2, metadata=ledger_metadata or {}),
        instance("ledger-canary", 3),
        instance("audit", 4),
        instance("other", 5),
    ]


def policy(*rules, **fields):
    return traffic_policy(
        **{"source": "gateway", "destination": "ledger", "rules": list(rules), **fields}
    )


def test_a_redirect_rule_answers_with_its_status_and_keeps_the_rest_of_the_path(mesh):
    rule = traffic_rule(
        "redirect",
        match={"path": "/v0/pay/*"},
        parameters={"target": "/v1/pay", "statusCode": 308},
    )
    redirect, default = routes_to(
        mesh(registrations(), traffic=[policy(rule)]), "gateway", "ledger"
    )
    assert redirect.match.prefix == "/v0/pay/"
    assert redirect.redirect.response_code == rc.RedirectAction.PERMANENT_REDIRECT
    assert redirect.redirect.prefix_rewrite == "/v1/pay/"
    assert default.route.cluster == "outbound|ledger"


def test_a_redirect_to_a_url_sets_scheme_host_and_port(mesh):
    rule = traffic_rule(
        "redirect",
        match={"path": "/old"},
        parameters={"target": "https://new.example.com:8443/new", "statusCode": 301},
    )
    (redirect, _) = routes_to(mesh(registrations(), traffic=[policy(rule)]), "gateway", "ledger")
    action = redirect.redirect
    assert (action.scheme_redirect, action.host_redirect, action.port_redirect) == (
        "https",
        "new.example.com",
        8443,
    )
    assert action.path_redirect == "/new"
    assert action.response_code == rc.RedirectAction.MOVED_PERMANENTLY


def test_a_split_rule_becomes_weighted_clusters(mesh):
    rule = traffic_rule("weighted-split", match={"path": "/blocks/*"}, parameters=SPLIT)
    split, default = routes_to(mesh(registrations(), traffic=[policy(rule)]), "gateway", "ledger")
    assert split.match.prefix == "/blocks/"
    clusters = split.route.weighted_clusters.clusters
    assert [(c.name, c.weight.value) for c in clusters] == [
        ("outbound|ledger", 90),
        ("outbound|ledger-canary", 10),
    ]
    assert default.route.cluster == "outbound|ledger"


def test_a_split_without_a_match_takes_all_traffic_and_later_rules_never_apply(mesh):
    redirect = traffic_rule("redirect", match={"path": "/x"}, parameters={"target": "/y"})
    first = policy(traffic_rule("weighted-split", parameters=SPLIT), name="a-split", priority=500)
    later = policy(redirect, name="b-redirect", priority=100)
    (only,) = routes_to(mesh(registrations(), traffic=[later, first]), "gateway", "ledger")
    assert only.match.prefix == "/"
    assert len(only.route.weighted_clusters.clusters) == 2


def test_higher_priority_rules_come_first_then_policy_name(mesh):
    def redirect(path):
        return traffic_rule("redirect", match={"path": path}, parameters={"target": "/z"})

    policies = [
        policy(redirect("/low"), name="a-low", priority=100),
        policy(redirect("/high"), name="z-high", priority=900),
        policy(redirect("/mid-b"), name="b-mid", priority=500),
        policy(redirect("/mid-a"), name="a-mid", priority=500),
    ]
    found = routes_to(mesh(registrations(), traffic=policies), "gateway", "ledger")
    assert [r.match.path for r in found[:-1]] == ["/high", "/mid-a", "/mid-b", "/low"]


def test_unregistered_split_targets_are_left_out_and_none_left_answers_503(mesh):
    partial = {
        "destinations": [
            {"destination": "ledger", "weight": 70},
            {"destination": "not-there", "weight": 30},
        ]
    }
    none_left = {"destinations": [{"destination": "not-there", "weight": 100}]}
    rules = [
        traffic_rule("weighted-split", match={"path": "/a/*"}, parameters=partial),
        traffic_rule("weighted-split", match={"path": "/b/*"}, parameters=none_left),
    ]
    first, second, _ = routes_to(
        mesh(registrations(), traffic=[policy(*rules)]), "gateway", "ledger"
    )
    assert first.route.cluster == "outbound|ledger"
    assert second.direct_response.status == 503


def test_a_mirror_rule_mirrors_the_forwarded_traffic_with_its_percentage(mesh):
    rule = traffic_rule("mirror", parameters={"destination": "audit", "percentage": 25})
    (only,) = routes_to(mesh(registrations(), traffic=[policy(rule)]), "gateway", "ledger")
    (mirror,) = only.route.request_mirror_policies
    assert mirror.cluster == "outbound|audit"
    fraction = mirror.runtime_fraction.default_value
    assert (fraction.numerator, fraction.denominator) == (25, percent_pb2.FractionalPercent.HUNDRED)


def test_a_fractional_mirror_percentage_is_kept_in_millionths(mesh):
    rule = traffic_rule("mirror", parameters={"destination": "audit", "percentage": 12.5})
    (only,) = routes_to(mesh(registrations(), traffic=[policy(rule)]), "gateway", "ledger")
    fraction = only.route.request_mirror_policies[0].runtime_fraction.default_value
    assert (fraction.numerator, fraction.denominator) == (
        125_000,
        percent_pb2.FractionalPercent.MILLION,
    )


def test_a_matched_mirror_adds_a_mirrored_copy_of_each_forwarding_route(mesh):
    mirror = traffic_rule(
        "mirror", match={"path": "/api/*"}, parameters={"destination": "audit", "percentage": 10}
    )
    split = traffic_rule("weighted-split", match={"path": "/api/blocks/*"}, parameters=SPLIT)
    state = mesh(registrations(), traffic=[policy(split, mirror)])
    split_route, default_mirrored, default = routes_to(state, "gateway", "ledger")
    # The split's own match lies under /api/, so its only copy is the mirrored one.
    assert split_route.match.prefix == "/api/blocks/"
    assert split_route.route.request_mirror_policies[0].cluster == "outbound|audit"
    assert default_mirrored.match.prefix == "/api/"
    assert default_mirrored.route.request_mirror_policies[0].cluster == "outbound|audit"
    assert default.match.prefix == "/"
    assert not default.route.request_mirror_policies


def test_rule_matches_become_route_matches(mesh):
    rule = traffic_rule(
        "redirect",
        match={"path": "regex:^/u/[0-9]+$", "method": "GET", "query": {"v": "1"}},
        parameters={"target": "/users"},
    )
    (redirect, _) = routes_to(mesh(registrations(), traffic=[policy(rule)]), "gateway", "ledger")
    assert redirect.match.safe_regex.regex == "^/u/[0-9]+$"
    assert [(h.name, h.string_match.exact) for h in redirect.match.headers] == [(":method", "GET")]
    assert redirect.match.query_parameters[0].name == "v"


def test_allow_deny_disabled_policies_and_other_sources_change_no_route(mesh):
    policies = [
        policy(traffic_rule("deny"), name="deny"),
        policy(traffic_rule("allow"), name="allow"),
        policy(traffic_rule("weighted-split", parameters=SPLIT), name="off", enabled=False),
        policy(traffic_rule("weighted-split", parameters=SPLIT), name="theirs", source="other"),
    ]
    (only,) = routes_to(mesh(registrations(), traffic=policies), "gateway", "ledger")
    assert only.route.cluster == "outbound|ledger"


def test_selectors_pick_sources_and_destinations(mesh):
    rule = traffic_rule("mirror", parameters={"destination": "audit"})
    state = mesh(registrations(), traffic=[policy(rule, source="gate*", destination="plane:chain")])
    for destination in ("ledger", "ledger-canary", "other"):
        (only,) = routes_to(state, "gateway", destination)
        assert only.route.request_mirror_policies[0].cluster == "outbound|audit"


def test_source_and_destination_labels_decide_at_compile_time(mesh):
    rule = traffic_rule(
        "weighted-split",
        match={"sourceLabels": {"tier": "edge"}, "destinationLabels": {"track": "stable"}},
        parameters=SPLIT,
    )
    labelled = mesh(
        registrations({"labels": {"tier": "edge"}}, {"labels": {"track": "stable"}}),
        traffic=[policy(rule)],
    )
    (only,) = routes_to(labelled, "gateway", "ledger")
    assert len(only.route.weighted_clusters.clusters) == 2
    unlabelled = mesh(registrations({"labels": {"tier": "core"}}), traffic=[policy(rule)])
    (only,) = routes_to(unlabelled, "gateway", "ledger")
    assert only.route.cluster == "outbound|ledger"


def test_a_sidecar_route_to_a_destination_keeps_its_rules_within_the_route_match(mesh):
    sidecar = sidecar_for(
        1,
        routing=routing(
            defaultRoute="audit",
            routes=[
                route(match={"path": "/api/*", "headers": {"x-team": "a"}}, destination="ledger")
            ],
        ),
    )
    rule = traffic_rule("weighted-split", match={"path": "/api/blocks/*"}, parameters=SPLIT)
    config = outbound_routes(mesh(registrations(), [sidecar], [policy(rule)]), "gateway")
    split, plain, default = vhost(config, "*").routes
    assert split.match.prefix == "/api/blocks/"
    assert [h.name for h in split.match.headers] == ["x-team"]
    assert len(split.route.weighted_clusters.clusters) == 2
    assert plain.match.prefix == "/api/"
    assert plain.route.cluster == "outbound|ledger"
    assert default.route.cluster == "outbound|audit"
