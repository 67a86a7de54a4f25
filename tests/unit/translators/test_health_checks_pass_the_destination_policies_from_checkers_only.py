"""Every destination lets health checkers (the registry's, and each caller's sidecar running
the destination's check) make exactly its health-check requests: an allow rule above every
priority, for the exact `healthCheck.endpoint` path and method (POST
/grpc.health.v1.Health/Check for gRPC checks), from a caller sending no source header (with
mTLS, over a mesh certificate). It does not change the `rbac` fallback, never reaches the
edge, is scoped the same way in jwt_authn, and the rate-limit routes let it pass
uncounted. With mTLS, a deny rule naming sources excludes it, since a caller's sidecar
checks with its own identity."""

from __future__ import annotations

from envoy.extensions.filters.http.jwt_authn.v3 import config_pb2 as jwt_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from google.protobuf import json_format

from lucid.models import ServiceRegistration
from lucid.translators import inbound
from lucid.translators.access import HEALTH_CHECK_PRIORITY, access
from lucid.translators.health_access import GRPC_HEALTH_PATH, health_request
from lucid.translators.node import HEALTH_CHECKER_ID, Node
from lucid.translators.ratelimit import RATE_LIMIT_FILTER
from lucid.translators.rbac import Caller, rbac_configs
from lucid.translators.state import TRUST_DOMAIN
from tests.builders import (
    endpoint,
    health_check,
    instance,
    policy_rule,
    security_policy,
    security_rule,
    sidecar_for,
    sidecar_policy,
)
from tests.unit.translators.every_destination_feature import NODE, every_feature

HEADER = Caller(mode="header", ports=frozenset({15006}), planes=frozenset({"chain"}))
MTLS = Caller(mode="mtls", ports=frozenset({15006}), planes=frozenset({"chain"}))
# A health checker sends neither source header; an app's sidecar always sets both.
NO_SOURCE_HEADERS = {"notId": {"orIds": {"ids": [
    {"header": {"name": "x-lucid-source", "presentMatch": True}},
    {"header": {"name": "x-lucid-source-plane", "presentMatch": True}},
]}}}  # fmt: skip
DENY_ALL = {"mTLS": {"enabled": False}, "authorization": {"policy": "deny-all"}}


def registration(**overrides):
    return ServiceRegistration.model_validate(instance("orders", 1, **overrides))


def compiled(state, caller, service="orders"):
    configs = rbac_configs(state, access(state, service), caller)
    return {name: json_format.MessageToDict(config.rules) for name, config in configs.items()}


def health_principal(rules):
    return rules["lucid.rbac.allow"]["policies"]["health checks"]["principals"][0]


# -- which request ----------------------------------------------------------------------


def test_an_http_check_is_its_exact_endpoint_and_method():
    assert health_request(registration()) == ("GET", "/health")
    head = registration(healthCheck=health_check(endpoint="/ready", httpCheck={"method": "HEAD"}))
    assert health_request(head) == ("HEAD", "/ready")


def test_a_grpc_check_is_the_health_protocol_or_the_method_it_names():
    grpc = endpoint(host="10.0.0.1", port=9090, protocol="grpc")
    assert health_request(registration(endpoint=grpc)) == ("POST", GRPC_HEALTH_PATH)
    named = health_check(grpcCheck={"method": "lucid.Probe/Ready"})
    assert health_request(registration(endpoint=grpc, healthCheck=named)) == (
        "POST",
        "/lucid.Probe/Ready",
    )
    for method in ("Ready", "lucid.Probe/../admin"):  # no exact path: no rule
        odd = health_check(grpcCheck={"method": method})
        assert health_request(registration(endpoint=grpc, healthCheck=odd)) is None


def test_callers_sidecars_check_a_grpc_service_with_the_standard_method(mesh):
    grpc = endpoint(host="10.0.0.1", port=9090, protocol="grpc")
    named = health_check(grpcCheck={"method": "lucid.Probe/Ready"})
    state = mesh([instance("orders", 1, endpoint=grpc, healthCheck=named)])

    (rule,) = [r for r in access(state, "orders").rules if r.control_plane]

    # The registry calls the method named; Envoy's gRPC checker knows only the standard one.
    assert [(p.method, p.path) for p in rule.permissions] == [
        ("POST", GRPC_HEALTH_PATH),
        ("POST", "/lucid.Probe/Ready"),
    ]


def test_the_rule_allows_the_exact_path_and_method_and_nothing_wider(mesh):
    state = mesh([instance("orders", 1)], [sidecar_for(1, security=DENY_ALL)])

    (rule,) = [r for r in access(state, "orders").rules if r.control_plane]
    principal = health_principal(compiled(state, HEADER))

    assert [(p.method, p.path, p.port) for p in rule.permissions] == [("GET", "/health", None)]
    request = principal["andIds"]["ids"][1]["andIds"]["ids"]
    assert request == [
        {"header": {"name": ":method", "stringMatch": {"exact": "GET"}}},
        {"urlPath": {"path": {"exact": "/health"}}},
    ]


def test_every_instances_check_is_allowed_once(mesh):
    state = mesh(
        [
            instance("orders", 1),
            instance("orders", 2),
            instance("orders", 3, healthCheck=health_check(endpoint="/live")),
        ]
    )

    (rule,) = [r for r in access(state, "orders").rules if r.control_plane]

    assert [(p.method, p.path) for p in rule.permissions] == [("GET", "/health"), ("GET", "/live")]


# -- who may make it ----------------------------------------------------------------------


def test_with_or_without_mtls_a_checker_is_a_caller_without_source_headers(mesh):
    state = mesh([instance("orders", 1)], [sidecar_for(1, security=DENY_ALL)])

    for caller in (MTLS, HEADER):
        who = health_principal(compiled(state, caller))["andIds"]["ids"][0]
        assert who == NO_SOURCE_HEADERS, caller.mode
    # The registry's own certificate is a mesh one, in no plane.
    assert HEALTH_CHECKER_ID.startswith(f"spiffe://{TRUST_DOMAIN}/")
    assert "/plane/" not in HEALTH_CHECKER_ID


def test_on_the_edge_there_is_no_health_check_rule(mesh):
    state = mesh([instance("orders", 1)])

    assert not [r for r in access(state, "orders", inbound=False).rules if r.control_plane]


# -- where it sits among the rules ---------------------------------------------------------


def test_the_rule_comes_before_every_priority_and_a_deny_all_excludes_it(mesh):
    deny_everyone = security_policy(
        name="deny-all", source="*", destination="orders", priority=1000,
        rules=[security_rule("deny")],
    )  # fmt: skip
    state = mesh([instance("orders", 1)], security=[deny_everyone])

    rules = access(state, "orders").rules
    deny = compiled(state, MTLS)["lucid.rbac.deny"]["policies"]

    assert rules[0].control_plane == HEALTH_CHECKER_ID
    assert rules[0].priority == HEALTH_CHECK_PRIORITY > max(r.priority for r in rules[1:])
    (policy,) = [p for name, p in deny.items() if "securitypolicy" in name]
    excluded = policy["principals"][0]["notId"]
    assert excluded["andIds"]["ids"][0] == NO_SOURCE_HEADERS


def deny_web(mesh):
    return mesh(
        [instance("orders", 1), instance("web", 2)],
        security=[
            security_policy(source="web", destination="orders", rules=[security_rule("deny")])
        ],
    )


def test_without_mtls_a_deny_naming_sources_is_left_as_it_was(mesh):
    deny = compiled(deny_web(mesh), HEADER)["lucid.rbac.deny"]["policies"]

    (policy,) = [p for name, p in deny.items() if "securitypolicy" in name]
    assert policy["principals"] == [
        {"header": {"name": "x-lucid-source", "stringMatch": {"exact": "web"}}}
    ]


def test_with_mtls_a_deny_naming_sources_excludes_the_checks_of_their_sidecars(mesh):
    deny = compiled(deny_web(mesh), MTLS)["lucid.rbac.deny"]["policies"]

    (policy,) = [p for name, p in deny.items() if "securitypolicy" in name]
    web, excluded = policy["principals"][0]["andIds"]["ids"]
    assert web == {"authenticated": {"principalName": {
        "exact": "spiffe://lucid.mesh/plane/chain/service/web"}}}  # fmt: skip
    assert excluded["notId"]["andIds"]["ids"][0] == NO_SOURCE_HEADERS


def test_the_rbac_fallback_does_not_count_the_health_check_rule(mesh):
    state = mesh([instance("orders", 1)])

    result = access(state, "orders")

    assert any(r.effect == "allow" for r in result.rules)
    assert result.default_allow is True


# -- jwt_authn and rate limits -----------------------------------------------------------------


def inbound_manager(state, node=NODE):
    listener = inbound.inbound_listener(state, node)
    manager = hcm_pb2.HttpConnectionManager()
    listener.filter_chains[0].filters[-1].typed_config.Unpack(manager)
    return manager


def test_jwt_authn_asks_no_token_of_health_checkers_only(mesh):
    manager = inbound_manager(every_feature(mesh))
    config = jwt_pb2.JwtAuthentication()
    manager.http_filters[0].typed_config.Unpack(config)

    first = config.rules[0]

    assert first.match.path == "/health"
    headers = {h.name: h for h in first.match.headers}
    assert headers[":method"].string_match.exact == "GET"
    assert (headers["x-lucid-source"].present_match, headers["x-lucid-source"].invert_match) == (
        True,
        True,
    )
    assert first.requires.requires_any.requirements[-1].HasField("allow_missing")


def inbound_routes(state, node):
    return inbound.inbound_route_configuration(state, node).virtual_hosts[0].routes


def test_rate_limited_services_route_health_checks_first_without_a_bucket(mesh):
    routes = inbound_routes(every_feature(mesh), NODE)

    health = routes[0]

    assert health.name == "health-check|GET|/health"
    assert health.match.path == "/health"
    assert RATE_LIMIT_FILTER not in health.typed_per_filter_config
    assert health.route.cluster == "inbound|8080"


def test_with_or_without_mtls_the_health_route_wants_no_source_headers(mesh):
    for mtls in (True, False):
        routes = inbound_routes(every_feature(mesh, mtls=mtls), NODE)

        absent = [(h.name, h.present_match, h.invert_match) for h in routes[0].match.headers][1:]

        assert absent == [("x-lucid-source", True, True), ("x-lucid-source-plane", True, True)]


def test_without_rate_limits_or_redirects_there_is_no_health_route(mesh):
    state = mesh([instance("orders", 1)], [sidecar_for(1, policies=[])])
    node = Node(id="o", service="orders", plane="chain", app_port=8080, inbound_port=15006)

    assert [r.name for r in inbound_routes(state, node)] == ["app"]


def test_a_redirect_alone_also_gets_the_health_route_first(mesh):
    redirect = sidecar_policy(
        "auth",
        policyId="login",
        rules=[policy_rule("redirect", parameters={"target": "/login"})],
    )
    state = mesh([instance("orders", 1)], [sidecar_for(1, policies=[redirect])])
    node = Node(id="o", service="orders", plane="chain", app_port=8080, inbound_port=15006)

    assert [r.name for r in inbound_routes(state, node)] == [
        "health-check|GET|/health",
        "auth|login|0",
        "app",
    ]
