"""A sidecar routes to one service by default and by route; routes that share a match form a
split whose weights sum to 100 over distinct services; load balancing names a known
algorithm, sticky sessions a cookie, and hashOn only goes with consistent-hash (spec
section 3, RoutingConfig, Route and LoadBalancingConfig). Every error is LUCID_ERR_1103.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    load_balancing,
    route,
    routing,
    sidecar,
    with_field,
    without_field,
)
from tests.unit.models.checks import parse_sidecar, rejected

ROUTING_CONFIGURATION_INVALID = "LUCID_ERR_1103"


def with_routing(**overrides):
    return sidecar(routing=routing(**overrides))


def with_routes(*routes):
    return with_routing(routes=list(routes))


def rejected_routing(document, *, path, value):
    return rejected(
        parse_sidecar, document, code=ROUTING_CONFIGURATION_INVALID, path=path, value=value
    )


NOT_ONE_SERVICE = [
    pytest.param("blockchain-*", id="a glob"),
    pytest.param("*", id="every service"),
    pytest.param("cluster:blockchain-core", id="a cluster"),
    pytest.param("plane:chain", id="a plane"),
    pytest.param("Blockchain-Core", id="an uppercase name"),
    pytest.param("bc", id="a name of 2 characters"),
    pytest.param("blockchain-core.lucid.onion", id="a hostname"),
    pytest.param("", id="nothing"),
]


@pytest.mark.parametrize("destination", NOT_ONE_SERVICE)
def test_a_default_route_that_is_not_one_service_is_rejected(destination):
    rejected_routing(
        with_routing(defaultRoute=destination), path="routing.defaultRoute", value=destination
    )


@pytest.mark.parametrize("destination", NOT_ONE_SERVICE)
def test_a_route_destination_that_is_not_one_service_is_rejected(destination):
    rejected_routing(
        with_routes(route(destination=destination)),
        path="routing.routes.0.destination",
        value=destination,
    )


def test_routing_without_a_default_route_is_rejected():
    rejected_routing(
        sidecar(routing=without_field(routing(), "defaultRoute")),
        path="routing.defaultRoute",
        value=None,
    )


@pytest.mark.parametrize("field", ["match", "destination"])
def test_a_route_without_a_required_field_is_rejected(field):
    rejected_routing(
        with_routes(route(), without_field(route(match={"path": "/admin/*"}), field)),
        path=f"routing.routes.1.{field}",
        value=None,
    )


INVALID_ROUTE_FIELDS = [
    pytest.param("weight", -1, id="weight -1"),
    pytest.param("weight", 101, id="weight 101"),
    pytest.param("weight", "100", id="weight given as a string"),
    pytest.param("timeout", 0, id="timeout 0"),
    pytest.param("timeout", 300001, id="timeout 300001"),
    pytest.param("timeout", "5000", id="timeout given as a string"),
    pytest.param("retry.maxAttempts", 0, id="retry maxAttempts 0"),
    pytest.param("retry.maxAttempts", 11, id="retry maxAttempts 11"),
    pytest.param("retry.backoffMultiplier", 5.1, id="retry backoffMultiplier 5.1"),
    pytest.param("match.method", "FETCH", id="match method FETCH"),
    pytest.param("match.path", "api/v1", id="match path without a slash"),
    pytest.param("match.path", "/api v1", id="match path with a space"),
    pytest.param("match.query.version", 2, id="match query value a number"),
    pytest.param("match.headers.X-Canary", True, id="match header value a boolean"),
    pytest.param("match.sourceLabels", {"tier": "edge"}, id="unknown match field"),
    pytest.param("mirror", "session-recorder", id="unknown route field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_ROUTE_FIELDS)
def test_an_invalid_route_field_is_rejected_with_its_path(field, value):
    valid = route(weight=100, timeout=5000, retry={"maxAttempts": 3})

    rejected_routing(
        with_routes(with_field(valid, field, value)),
        path=f"routing.routes.0.{field}",
        value=value,
    )


def test_a_route_retry_without_max_attempts_is_rejected():
    rejected_routing(
        with_routes(route(retry={"initialDelay": 100})),
        path="routing.routes.0.retry.maxAttempts",
        value=None,
    )


def test_a_header_name_that_http_does_not_allow_is_rejected_in_a_route_match():
    headers = {"x canary": "1"}

    rejected_routing(
        with_routes(route(match={"headers": headers})),
        path="routing.routes.0.match.headers",
        value=headers,
    )


# Splits: routes sharing one match -------------------------------------------------------

API = {"path": "/api/v1/*"}
ADMIN = {"path": "/admin/*"}


def test_routes_sharing_a_match_whose_weights_fall_short_of_100_are_rejected():
    document = with_routes(
        route(match=API, destination="blockchain-core", weight=50),
        route(match=API, destination="blockchain-core-canary", weight=40),
    )

    error = rejected_routing(document, path="routing.routes.1.weight", value=90)
    assert "100" in error.rule


def test_routes_sharing_a_match_whose_weights_exceed_100_are_rejected():
    document = with_routes(
        route(match=API, destination="blockchain-core", weight=50),
        route(match=ADMIN, destination="admin-interface"),
        route(match=API, destination="blockchain-core-canary", weight=30),
        route(match=API, destination="blockchain-core-shadow", weight=30),
    )

    rejected_routing(document, path="routing.routes.3.weight", value=110)


def test_a_route_of_a_split_without_a_weight_is_rejected():
    document = with_routes(
        route(match=API, destination="blockchain-core", weight=100),
        route(match=API, destination="blockchain-core-canary"),
    )

    rejected_routing(document, path="routing.routes.1.weight", value=None)


def test_a_lone_route_with_a_weight_below_100_is_rejected():
    rejected_routing(with_routes(route(weight=50)), path="routing.routes.0.weight", value=50)


def test_a_split_that_names_one_service_twice_is_rejected():
    document = with_routes(
        route(match=API, destination="blockchain-core", weight=50),
        route(match=API, destination="blockchain-core", weight=50),
    )

    error = rejected_routing(document, path="routing.routes.1.destination", value="blockchain-core")
    assert "twice" in error.rule


VALID_ROUTES = [
    pytest.param([route()], id="one route without a weight"),
    pytest.param([route(weight=100)], id="one route weighing 100"),
    pytest.param(
        [
            route(match=API, destination="blockchain-core", weight=90),
            route(match=API, destination="blockchain-core-canary", weight=10),
        ],
        id="a 90-10 split",
    ),
    pytest.param(
        [
            route(match=API, destination="blockchain-core", weight=0),
            route(match=API, destination="blockchain-core-canary", weight=100),
        ],
        id="a 0-100 split",
    ),
    pytest.param(
        [
            route(match=API, destination="blockchain-core", weight=34),
            route(match=ADMIN, destination="admin-interface"),
            route(match=API, destination="blockchain-core-canary", weight=33),
            route(match=API, destination="blockchain-core-shadow", weight=33),
        ],
        id="a three-way split around another route",
    ),
    pytest.param(
        [route(match=API), route(match=ADMIN, destination="admin-interface")],
        id="routes with different matches",
    ),
    pytest.param(
        [
            route(match={"path": "/api/v1/*", "method": "GET"}, destination="blockchain-core"),
            route(match={"path": "/api/v1/*", "method": "POST"}, destination="tron-payment"),
        ],
        id="routes that differ only in method",
    ),
    pytest.param([], id="no routes"),
]


@pytest.mark.parametrize("routes", VALID_ROUTES)
def test_valid_routes_are_accepted(routes):
    parse_sidecar(with_routes(*routes))


def test_a_route_with_its_own_timeout_and_retry_is_accepted():
    document = with_routes(route(timeout=2500, retry={"maxAttempts": 2, "initialDelay": 200}))

    model = parse_sidecar(document).routing.routes[0]

    assert model.timeout == 2500
    assert model.retry.maxAttempts == 2


# Load balancing -------------------------------------------------------------------------

INVALID_LOAD_BALANCING = [
    pytest.param("algorithm", "least-conn", id="algorithm least-conn"),
    pytest.param("algorithm", "ROUND-ROBIN", id="algorithm in uppercase"),
    pytest.param("algorithm", "ring-hash", id="algorithm ring-hash"),
    pytest.param("healthCheck.enabled", "yes", id="health check enabled given as a string"),
    pytest.param("healthCheck.interval", 0, id="health check interval 0"),
    pytest.param("healthCheck.unhealthyThreshold", 0, id="unhealthyThreshold 0"),
    pytest.param("healthCheck.healthyThreshold", "2", id="healthyThreshold given as a string"),
    pytest.param("healthCheck.path", "/health", id="unknown health check field"),
    pytest.param("stickySession.enabled", "true", id="sticky enabled given as a string"),
    pytest.param("stickySession.cookie", "lucid session", id="a cookie name with a space"),
    pytest.param("stickySession.ttl", -1, id="sticky ttl -1"),
    pytest.param("stickySession.path", "/", id="unknown sticky session field"),
    pytest.param("weights", {"blockchain-core": 100}, id="unknown load balancing field"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_LOAD_BALANCING)
def test_an_invalid_load_balancing_field_is_rejected_with_its_path(field, value):
    document = with_routing(loadBalancing=with_field(load_balancing(), field, value))

    rejected_routing(document, path=f"routing.loadBalancing.{field}", value=value)


def test_load_balancing_without_an_algorithm_is_rejected():
    rejected_routing(
        with_routing(loadBalancing={}), path="routing.loadBalancing.algorithm", value=None
    )


@pytest.mark.parametrize(
    "algorithm", ["round-robin", "least-connections", "random", "weighted", "consistent-hash"]
)
def test_every_load_balancing_algorithm_of_the_spec_is_accepted(algorithm):
    model = parse_sidecar(with_routing(loadBalancing=load_balancing(algorithm=algorithm)))

    assert model.routing.loadBalancing.algorithm == algorithm


@pytest.mark.parametrize(
    ("interval", "timeout"),
    [pytest.param(5, 5, id="timeout equal to interval"), pytest.param(5, 10, id="longer")],
)
def test_a_load_balancer_health_check_timing_out_after_its_interval_is_rejected(interval, timeout):
    document = with_routing(
        loadBalancing=load_balancing(healthCheck={"interval": interval, "timeout": timeout})
    )

    rejected_routing(document, path="routing.loadBalancing.healthCheck.timeout", value=timeout)


def test_a_load_balancer_health_check_fills_the_spec_defaults():
    document = with_routing(loadBalancing=load_balancing(healthCheck={}))

    check = parse_sidecar(document).routing.loadBalancing.healthCheck

    assert (check.enabled, check.interval, check.timeout) == (True, 30, 5)
    assert (check.unhealthyThreshold, check.healthyThreshold) == (3, 2)


def test_an_enabled_sticky_session_without_a_cookie_is_rejected():
    document = with_routing(loadBalancing=load_balancing(stickySession={"enabled": True}))

    rejected_routing(document, path="routing.loadBalancing.stickySession.cookie", value=None)


def test_an_enabled_sticky_session_with_a_cookie_is_accepted():
    sticky = {"enabled": True, "cookie": "lucid-session", "ttl": 3600}

    model = parse_sidecar(with_routing(loadBalancing=load_balancing(stickySession=sticky)))

    assert model.routing.loadBalancing.stickySession.cookie == "lucid-session"


def test_a_sticky_session_is_off_by_default_and_then_needs_no_cookie():
    document = with_routing(loadBalancing=load_balancing(stickySession={}))

    assert parse_sidecar(document).routing.loadBalancing.stickySession.enabled is False


@pytest.mark.parametrize("algorithm", ["round-robin", "least-connections", "random", "weighted"])
def test_hash_on_without_consistent_hash_is_rejected(algorithm):
    document = with_routing(
        loadBalancing=load_balancing(algorithm=algorithm, hashOn="header:x-session-id")
    )

    error = rejected_routing(
        document, path="routing.loadBalancing.hashOn", value="header:x-session-id"
    )
    assert "consistent-hash" in error.rule


@pytest.mark.parametrize(
    "hash_on", ["source-ip", "header:x-session-id", "cookie:lucid-session", "query:wallet"]
)
def test_hash_on_with_consistent_hash_is_accepted(hash_on):
    document = with_routing(
        loadBalancing=load_balancing(algorithm="consistent-hash", hashOn=hash_on)
    )

    assert parse_sidecar(document).routing.loadBalancing.hashOn == hash_on


@pytest.mark.parametrize("hash_on", ["ip", "header:", "header:x session", "body:wallet"])
def test_hash_on_something_it_cannot_hash_is_rejected(hash_on):
    document = with_routing(
        loadBalancing=load_balancing(algorithm="consistent-hash", hashOn=hash_on)
    )

    rejected_routing(document, path="routing.loadBalancing.hashOn", value=hash_on)


def test_an_unknown_routing_field_is_rejected():
    rejected_routing(
        with_routing(fallback="session-recorder"), path="routing.fallback", value="session-recorder"
    )


def test_a_sidecar_without_routing_is_rejected():
    rejected_routing(without_field(sidecar(), "routing"), path="routing", value=None)
