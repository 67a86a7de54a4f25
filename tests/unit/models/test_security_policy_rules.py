"""A security policy's rules allow, deny or require authentication, mTLS or a role; a rule
that requires authentication names its methods, one that requires a role names the roles,
and the jwt method names its issuer (spec section 4, SecurityPolicy and SecurityRule).
Every error is LUCID_ERR_1102.
"""

from __future__ import annotations

import pytest

from tests.builders import security_policy, security_rule, with_field, without_field
from tests.unit.models.checks import errors_of, parse_security_policy, rejected

POLICY_VALIDATION_FAILED = "LUCID_ERR_1102"


def with_rule(rule):
    return security_policy(rules=[rule])


def rejected_security(document, *, path, value):
    return rejected(
        parse_security_policy, document, code=POLICY_VALIDATION_FAILED, path=path, value=value
    )


@pytest.mark.parametrize("field", ["name", "source", "destination", "rules"])
def test_a_security_policy_without_a_required_field_is_rejected(field):
    rejected_security(without_field(security_policy(), field), path=field, value=None)


INVALID_FIELDS = [
    pytest.param("name", "Payments-Need-Auth", id="name in uppercase"),
    pytest.param("name", "payments.need.auth", id="name with dots"),
    pytest.param("name", "", id="empty name"),
    pytest.param("rules", [], id="no rules"),
    pytest.param("priority", 0, id="priority 0"),
    pytest.param("priority", 1001, id="priority 1001"),
    pytest.param("priority", 1.5, id="priority given as a float"),
    pytest.param("enabled", "false", id="enabled given as a string"),
    pytest.param("namespace", "Payments", id="namespace in uppercase"),
    pytest.param("labels", {"team": "payments"}, id="labels, which only traffic policies have"),
    pytest.param("type", "security", id="type owned by the control plane"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_FIELDS)
def test_an_invalid_security_policy_field_is_rejected_with_its_path(path, value):
    rejected_security(with_field(security_policy(), path, value), path=path, value=value)


INVALID_RULE_FIELDS = [
    pytest.param("action", "require-jwt", id="action require-jwt"),
    pytest.param("action", "redirect", id="a traffic action"),
    pytest.param("action", "Allow", id="action in uppercase"),
    pytest.param("authentication.required", "yes", id="required given as a string"),
    pytest.param("authentication.methods", "jwt", id="methods that are not a list"),
    pytest.param("authentication.methods.0", "saml", id="method saml"),
    pytest.param("authentication.methods.0", "JWT", id="method in uppercase"),
    pytest.param("authentication.jwt.issuer", "", id="an empty jwt issuer"),
    pytest.param("authentication.jwt.audience", ["lucid-api"], id="jwt audience given as a list"),
    pytest.param("authentication.jwt.requiredClaims", "scope", id="claims that are not an object"),
    pytest.param("authentication.jwt.jwksUrl", "https://x", id="unknown jwt field"),
    pytest.param("authentication.apiKey", "x-api-key", id="unknown authentication field"),
    pytest.param("authorization.roles", "admin", id="roles that are not a list"),
    pytest.param("authorization.roles.0", "", id="an empty role"),
    pytest.param("authorization.permissions.0", "FETCH:/api", id="a permission with FETCH"),
    pytest.param("authorization.permissions.0", "GET:api", id="a permission path without /"),
    pytest.param("authorization.permissions.0", "port:http", id="a permission on a named port"),
    pytest.param("authorization.resourceAccess", ["wallets"], id="resourceAccess as a list"),
    pytest.param("authorization.policy", "rbac", id="unknown authorization field"),
    pytest.param("match.method", "FETCH", id="match method FETCH"),
    pytest.param("match.path", "api", id="match path without a slash"),
    pytest.param("match.headers.Authorization", 1, id="match header value a number"),
    pytest.param("match.sourceLabels.tier", 1, id="source label value a number"),
    pytest.param("match.query", {"debug": "1"}, id="a query match, which security rules lack"),
    pytest.param("roles", ["admin"], id="unknown rule field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_RULE_FIELDS)
def test_an_invalid_security_rule_field_is_rejected_with_its_path(path, value):
    rule = security_rule(
        "allow",
        authentication={"methods": ["jwt"], "jwt": {"issuer": "https://auth.lucid.onion"}},
        authorization={"roles": ["payment-operator"], "permissions": ["POST:/api/v1/payments"]},
    )

    rejected_security(with_rule(with_field(rule, path, value)), path=f"rules.0.{path}", value=value)


def test_a_rule_without_an_action_is_rejected():
    rejected_security(with_rule({"match": {"path": "/"}}), path="rules.0.action", value=None)


REQUIRE_ROLE_WITHOUT_ROLES = [
    pytest.param({}, id="no authorization"),
    pytest.param({"authorization": {}}, id="authorization without roles"),
    pytest.param({"authorization": {"roles": []}}, id="an empty list of roles"),
    pytest.param(
        {"authorization": {"permissions": ["GET:/api/v1/*"]}}, id="permissions but no roles"
    ),
]


@pytest.mark.parametrize("rule", REQUIRE_ROLE_WITHOUT_ROLES)
def test_require_role_without_roles_is_rejected(rule):
    error = rejected_security(
        with_rule({"action": "require-role", **rule}),
        path="rules.0.authorization.roles",
        value=None,
    )
    assert "role" in error.rule


REQUIRE_AUTH_WITHOUT_METHODS = [
    pytest.param({}, id="no authentication"),
    pytest.param({"authentication": {"required": True}}, id="authentication without methods"),
    pytest.param({"authentication": {"methods": []}}, id="an empty list of methods"),
]


@pytest.mark.parametrize("rule", REQUIRE_AUTH_WITHOUT_METHODS)
def test_require_auth_without_methods_is_rejected(rule):
    error = rejected_security(
        with_rule({"action": "require-auth", **rule}),
        path="rules.0.authentication.methods",
        value=None,
    )
    assert "method" in error.rule


JWT_WITHOUT_ISSUER = [
    pytest.param({"methods": ["jwt"]}, id="no jwt block"),
    pytest.param({"methods": ["mtls", "jwt"], "jwt": {"audience": "lucid-api"}}, id="no issuer"),
]


@pytest.mark.parametrize("authentication", JWT_WITHOUT_ISSUER)
@pytest.mark.parametrize("action", ["require-auth", "allow"])
def test_the_jwt_method_without_an_issuer_is_rejected(action, authentication):
    rejected_security(
        with_rule({"action": action, "authentication": authentication}),
        path="rules.0.authentication.jwt.issuer",
        value=None,
    )


VALID_RULES = [
    pytest.param(security_rule("allow"), id="allow"),
    pytest.param(security_rule("deny"), id="deny"),
    pytest.param(security_rule("require-auth"), id="require-auth with jwt"),
    pytest.param(security_rule("require-mtls"), id="require-mtls"),
    pytest.param(security_rule("require-role"), id="require-role"),
    pytest.param(
        security_rule("require-auth", authentication={"methods": ["mtls", "api-key", "oauth2"]}),
        id="require-auth without jwt needs no issuer",
    ),
    pytest.param(
        security_rule(
            "require-role",
            authorization={
                "roles": ["payment-operator", "auditor"],
                "permissions": ["GET", "POST:/api/v1/payments", "*:/api/v1/wallets/*", "port:8085"],
                "resourceAccess": {"wallets": ["own"], "limits": {"daily": 1000}},
            },
        ),
        id="roles with permissions and open resource access",
    ),
    pytest.param(
        security_rule(
            "require-auth",
            authentication={
                "required": False,
                "methods": ["jwt"],
                "jwt": {
                    "issuer": "https://auth.lucid.onion",
                    "audience": "lucid-api",
                    "requiredClaims": {"scope": "payments", "amr": ["mfa"]},
                },
            },
        ),
        id="jwt with open required claims",
    ),
    pytest.param(
        security_rule(
            "deny",
            match={
                "path": "/admin/*",
                "method": "DELETE",
                "headers": {"X-Forwarded-For": "10.0.0.1"},
                "sourceLabels": {"plane": "wallet"},
            },
        ),
        id="a deny with a full match",
    ),
]


@pytest.mark.parametrize("rule", VALID_RULES)
def test_a_valid_security_rule_is_accepted(rule):
    assert parse_security_policy(with_rule(rule)).rules[0].action == rule["action"]


def test_authentication_is_required_by_default():
    rule = parse_security_policy(security_policy()).rules[0]

    assert rule.authentication.required is True


def test_a_security_policy_fills_the_spec_defaults():
    policy = parse_security_policy(security_policy())

    assert (policy.priority, policy.enabled, policy.namespace) == (100, True, "default")


def test_every_broken_rule_of_a_policy_is_reported_with_its_index():
    document = security_policy(
        rules=[security_rule("allow"), {"action": "require-role"}, {"action": "require-auth"}]
    )

    errors = errors_of(parse_security_policy, document)

    assert [(error.code.value, error.path) for error in errors] == [
        (POLICY_VALIDATION_FAILED, "rules.1.authorization.roles"),
        (POLICY_VALIDATION_FAILED, "rules.2.authentication.methods"),
    ]
