"""The resolution rule on the compiled rules and RBAC protobuf: priority (higher first),
deny before allow at equal priority, first match decides; the fallback from
authorization.policy; who the caller is (SPIFFE id with mTLS, x-lucid-source without,
nobody on the edge); plane isolation; api-key as an RBAC header match."""

from __future__ import annotations

from google.protobuf import json_format

from lucid.translators.access import access, notes_for
from lucid.translators.node import HEALTH_CHECKER_ID
from lucid.translators.rbac import Caller, rbac_configs
from tests.builders import (
    instance,
    policy_rule,
    security_policy,
    security_rule,
    sidecar_for,
    sidecar_policy,
    traffic_policy,
    traffic_rule,
)

HEADER = Caller(mode="header", ports=frozenset({15006, 8080}), planes=frozenset({"chain"}))
MTLS = Caller(mode="mtls", ports=frozenset({15006, 8080}), planes=frozenset({"chain"}))
EDGE = Caller(mode="external", ports=frozenset({15443}))
# The health checker's allow rule (health_access.py) comes first in every destination's
# rules: `GET /health` from a caller without source headers, or with the checker's SAN.
HEALTH_REQUEST = {"andIds": {"ids": [
    {"header": {"name": ":method", "stringMatch": {"exact": "GET"}}},
    {"urlPath": {"path": {"exact": "/health"}}},
]}}  # fmt: skip
HEALTH_BY_HEADER = {"andIds": {"ids": [{"notId": {"orIds": {"ids": [
    {"header": {"name": "x-lucid-source", "presentMatch": True}},
    {"header": {"name": "x-lucid-source-plane", "presentMatch": True}},
]}}}, HEALTH_REQUEST]}}  # fmt: skip
# With mTLS too: a checker (the registry's, or a caller's sidecar) sends no source header.
HEALTH_BY_MTLS = HEALTH_BY_HEADER


def base(mesh, sidecars=(), traffic=(), security=()):
    registrations = [
        instance("orders", 1),
        instance("web", 2),
        instance("wallet-ui", 3, plane="wallet"),
    ]
    return mesh(registrations, list(sidecars), list(traffic), list(security))


def compiled(state, caller, service="orders"):
    configs = rbac_configs(state, access(state, service), caller)
    return {name: json_format.MessageToDict(config.rules) for name, config in configs.items()}


def test_rules_are_ordered_by_priority_then_deny_before_allow(mesh):
    state = base(
        mesh,
        traffic=[
            traffic_policy(name="a-allow-100", source="web", destination="orders"),
            traffic_policy(
                name="b-deny-100", source="web", destination="orders", rules=[traffic_rule("deny")]
            ),
        ],
        security=[
            security_policy(
                name="c-allow-300",
                source="web",
                destination="orders",
                priority=300,
                rules=[security_rule("allow")],
            ),
            security_policy(
                name="d-deny-50",
                source="*",
                destination="orders",
                priority=50,
                rules=[security_rule("deny")],
            ),
        ],
        sidecars=[
            sidecar_for(
                1,
                policies=[
                    sidecar_policy(
                        "auth", policyId="own-deny", priority=300, rules=[policy_rule("deny")]
                    )
                ],
            )
        ],
    )

    health, *rules = access(state, "orders").rules

    assert (health.priority, health.effect, health.control_plane) == (
        1002,
        "allow",
        HEALTH_CHECKER_ID,
    )
    assert [(r.priority, r.effect, r.origin.split(" ")[1]) for r in rules] == [
        (300, "deny", "policy"),
        (300, "allow", "default/c-allow-300"),
        (100, "deny", "default/b-deny-100"),
        (100, "allow", "default/a-allow-100"),
        (50, "deny", "default/d-deny-50"),
    ]


def test_a_deny_policy_excludes_the_allow_rules_before_it(mesh):
    state = base(
        mesh,
        traffic=[
            traffic_policy(name="allow-web", source="web", destination="orders", priority=200)
        ],
        security=[
            security_policy(
                name="deny-all", source="*", destination="orders", rules=[security_rule("deny")]
            )
        ],
    )

    rules = compiled(state, HEADER)

    deny = rules["lucid.rbac.deny"]["policies"]["0001 securitypolicy default/deny-all rules.0"]
    assert deny["principals"] == [{"notId": {"orIds": {"ids": [
        HEALTH_BY_HEADER, {"header": {"name": "x-lucid-source", "stringMatch": {"exact": "web"}}}
    ]}}}]  # fmt: skip
    allow = rules["lucid.rbac.allow"]
    assert sorted(allow["policies"]) == [
        "0000 trafficpolicy default/allow-web rules.0",
        "health checks",
    ]


def test_the_rbac_fallback_allows_when_no_allow_rule_targets_the_service(mesh):
    state = base(
        mesh,
        security=[
            security_policy(source="web", destination="orders", rules=[security_rule("deny")])
        ],
    )

    assert access(state, "orders").default_allow is True
    assert set(compiled(state, HEADER)) == {"lucid.rbac.deny"}


def test_deny_all_without_rules_is_an_allow_filter_with_no_policy(mesh):
    state = base(
        mesh, sidecars=[sidecar_for(1, security={"authorization": {"policy": "deny-all"}})]
    )

    allowed = compiled(state, MTLS)
    assert allowed == {"lucid.rbac.allow": {"policies": {"health checks": {
        "permissions": [{"any": True}], "principals": [HEALTH_BY_MTLS]}}}}  # fmt: skip


def test_allow_all_keeps_only_plane_isolation(mesh):
    state = base(
        mesh, sidecars=[sidecar_for(1, security={"authorization": {"policy": "allow-all"}})]
    )

    (policy,) = compiled(state, MTLS)["lucid.rbac.deny"]["policies"].values()
    assert policy["principals"] == [{"andIds": {"ids": [
        {"notId": {"authenticated": {"principalName": {
            "prefix": "spiffe://lucid.mesh/plane/chain/"}}}},
        {"notId": HEALTH_BY_MTLS},
    ]}}]  # fmt: skip


def test_disabled_authorization_compiles_no_rbac(mesh):
    state = base(
        mesh,
        sidecars=[sidecar_for(1, security={"authorization": {"enabled": False}})],
        security=[
            security_policy(source="web", destination="orders", rules=[security_rule("deny")])
        ],
    )

    assert compiled(state, MTLS) == {}


def test_disabled_authorization_still_requires_the_services_own_authentication(mesh):
    security = {
        "mTLS": {"enabled": False},
        "authentication": {"required": True, "methods": ["jwt"]},
        "authorization": {"enabled": False},
    }
    state = base(
        mesh,
        sidecars=[sidecar_for(1, security=security)],
        security=[
            security_policy(source="web", destination="orders", rules=[security_rule("deny")])
        ],
    )

    result = compiled(state, HEADER)

    # No policy, fallback or plane isolation; the authentication requirement stays.
    assert list(result) == ["lucid.rbac.deny"]
    assert list(result["lucid.rbac.deny"]["policies"]) == ["0000 sidecar security.authentication"]


def test_with_mtls_the_caller_is_the_spiffe_id_of_its_certificate(mesh):
    state = base(
        mesh,
        security=[
            security_policy(source="web", destination="orders", rules=[security_rule("deny")])
        ],
    )

    (policy,) = [
        p
        for n, p in compiled(state, MTLS)["lucid.rbac.deny"]["policies"].items()
        if "securitypolicy" in n
    ]
    # web's own sidecar checks orders' health as web: the deny leaves those checks alone.
    assert policy["principals"] == [{"andIds": {"ids": [
        {"authenticated": {"principalName": {
            "exact": "spiffe://lucid.mesh/plane/chain/service/web"}}},
        {"notId": HEALTH_BY_MTLS},
    ]}}]  # fmt: skip


def test_plane_isolation_by_header_denies_callers_naming_another_plane(mesh):
    state = base(mesh)

    (policy,) = compiled(state, HEADER)["lucid.rbac.deny"]["policies"].values()
    assert policy["principals"] == [{"andIds": {"ids": [
        {"header": {"name": "x-lucid-source-plane", "presentMatch": True}},
        {"notId": {"header": {"name": "x-lucid-source-plane",
                              "stringMatch": {"exact": "chain"}}}},
    ]}}]  # fmt: skip


def test_on_the_edge_rules_naming_sources_never_apply(mesh):
    state = base(
        mesh,
        traffic=[traffic_policy(name="allow-web", source="web", destination="orders")],
        security=[
            security_policy(
                name="deny-admin",
                source="*",
                destination="orders",
                rules=[security_rule("deny", match={"path": "/admin/*"})],
            )
        ],
    )

    rules = access(state, "orders", inbound=False)
    result = compiled(state, EDGE)

    assert rules.default_allow is False  # an allow rule targets orders
    assert list(result["lucid.rbac.deny"]["policies"]) == [
        "0000 securitypolicy default/deny-admin rules.0"
    ]
    assert result["lucid.rbac.allow"] == {}  # the allow names a mesh source: no edge caller


def test_api_keys_are_an_rbac_header_match(mesh):
    rule = security_rule(
        "require-auth",
        authentication={"methods": ["api-key"], "apiKeys": {"header": "x-key", "keys": ["k-1"]}},
    )
    state = base(mesh, security=[security_policy(source="*", destination="orders", rules=[rule])])

    (policy,) = [
        p
        for n, p in compiled(state, HEADER)["lucid.rbac.deny"]["policies"].items()
        if "securitypolicy" in n
    ]
    assert policy["principals"] == [{"andIds": {"ids": [
        {"notId": {"header": {"name": "x-key", "stringMatch": {"exact": "k-1"}}}},
        {"notId": HEALTH_BY_HEADER},
    ]}}]  # fmt: skip


def test_port_permissions_are_decided_for_the_listener(mesh):
    def rule(port):
        return security_rule(
            "require-role", authorization={"roles": ["ops"], "permissions": [f"port:{port}"]}
        )

    state = base(
        mesh,
        security=[
            security_policy(
                name="on-app-port", source="*", destination="orders", rules=[rule(8080)]
            ),
            security_policy(
                name="on-other-port", source="*", destination="orders", rules=[rule(9999)]
            ),
        ],
    )

    names = list(compiled(state, HEADER)["lucid.rbac.deny"]["policies"])
    assert any("on-app-port" in n for n in names)
    assert not any("on-other-port" in n for n in names)


def test_what_cannot_be_enforced_is_noted(mesh):
    state = base(
        mesh,
        security=[
            security_policy(
                source="web",
                destination="orders",
                rules=[
                    security_rule("require-mtls"),
                    security_rule("require-auth", authentication={"methods": ["api-key"]}),
                ],
            ),
        ],
    )

    messages = " | ".join(str(note) for note in notes_for(state, "orders"))
    assert "require-mtls on a service whose sidecar has mTLS off" in messages
    assert "no apiKeys are given" in messages
    assert "x-lucid-source header" in messages and "not tamper-proof" in messages
