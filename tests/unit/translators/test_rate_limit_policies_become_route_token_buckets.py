"""Rate-limit policies of a sidecar become routes of its inbound route configuration, each
with a local_ratelimit token bucket (tokens_per_fill = requests, fill_interval = unit,
max_tokens = burst or requests), x-ratelimit headers, in priority order; auth redirects
are routes too; everything else goes to the local app without a route timeout."""

from __future__ import annotations

from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2

from lucid.translators import inbound
from lucid.translators.ratelimit import RATE_LIMIT_FILTER
from tests.unit.translators.every_destination_feature import NODE, every_feature


def routes(mesh):
    """The routes after the health checker's own, which come first (the
    test_health_checks_pass_the_destination_policies_from_the_checker_only tests)."""
    found = inbound.inbound_route_configuration(every_feature(mesh), NODE).virtual_hosts[0].routes
    return [r for r in found if not r.name.startswith("health-check|")]


def bucket(route):
    config = local_rate_limit_pb2.LocalRateLimit()
    assert route.typed_per_filter_config[RATE_LIMIT_FILTER].Unpack(config)
    return config


def test_routes_follow_policy_priority_and_end_with_the_local_app(mesh):
    assert [r.name for r in routes(mesh)] == [
        "auth|auth-rules|1",
        "rate-limit|api-limit|0",
        "rate-limit|all-limit|0",
        "app",
    ]


def test_a_rule_becomes_a_token_bucket_with_rate_limit_headers(mesh):
    config = bucket(routes(mesh)[1])

    assert config.token_bucket.max_tokens == 20  # burst
    assert config.token_bucket.tokens_per_fill.value == 100
    assert config.token_bucket.fill_interval.seconds == 60
    assert config.filter_enabled.default_value.numerator == 100
    assert config.filter_enforced.default_value.numerator == 100
    assert config.enable_x_ratelimit_headers == ratelimit_pb2.DRAFT_VERSION_03


def test_without_burst_the_bucket_holds_one_unit_of_requests(mesh):
    config = bucket(routes(mesh)[2])

    assert (config.token_bucket.max_tokens, config.token_bucket.fill_interval.seconds) == (5, 1)


def test_conditions_and_the_rule_match_are_intersected_with_the_caller(mesh):
    match = routes(mesh)[1].match

    assert match.prefix == "/api/"
    headers = {h.name: h.string_match for h in match.headers}
    assert headers[":method"].exact == "POST"
    assert headers["x-lucid-source"].safe_regex.regex == "api\\-gateway"


def test_an_auth_redirect_is_a_redirect_route(mesh):
    route = routes(mesh)[0]

    assert route.match.path == "/login"
    assert route.redirect.host_redirect == "login.lucid.onion"
    assert route.redirect.scheme_redirect == "https"
    assert route.redirect.path_redirect == "/login"
    assert route.redirect.response_code == route.redirect.TEMPORARY_REDIRECT


def test_the_local_app_route_has_no_timeout(mesh):
    app = routes(mesh)[-1]

    assert app.match.prefix == "/"
    assert app.route.cluster == "inbound|8080"
    assert app.route.timeout.seconds == 0 and app.route.HasField("timeout")
