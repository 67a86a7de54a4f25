"""Lucid extensions of a security rule's authentication: where JWT signing keys come from
(`jwt.jwksUri`, or an inline `jwt.jwks` key set) and which keys the api-key method accepts
(`apiKeys`). Bad input is LUCID_ERR_1102 with the field's path and value."""

from __future__ import annotations

import json

import pytest

from tests.builders import security_policy, security_rule, with_field
from tests.unit.models.checks import parse_security_policy, rejected

JWT = "rules.0.authentication.jwt"
KEYS = json.dumps({"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]})


def require_auth(**jwt):
    rule = security_rule("require-auth")
    rule["authentication"]["jwt"].update(jwt)
    return security_policy(rules=[rule])


@pytest.mark.parametrize(
    "jwt",
    [
        pytest.param({"jwksUri": "https://auth.lucid.onion/keys"}, id="a remote key set"),
        pytest.param({"jwksUri": "http://127.0.0.1:9000/jwks.json"}, id="plain http"),
        pytest.param({"jwks": KEYS}, id="an inline key set"),
        pytest.param({}, id="neither: the issuer's well-known key set"),
    ],
)
def test_a_jwt_key_source_is_accepted(jwt):
    policy = parse_security_policy(require_auth(**jwt))

    config = policy.rules[0].authentication.jwt
    assert (config.jwksUri, config.jwks) == (jwt.get("jwksUri"), jwt.get("jwks"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("jwksUri", "ftp://auth.lucid.onion/keys", id="a URI that is not http"),
        pytest.param("jwksUri", "auth.lucid.onion/keys", id="a URI without a scheme"),
        pytest.param("jwks", "{not json", id="jwks that is not JSON"),
        pytest.param("jwks", json.dumps([1, 2]), id="jwks that is not an object"),
        pytest.param("jwks", json.dumps({"kty": "RSA"}), id="jwks without keys"),
        pytest.param("jwks", json.dumps({"keys": []}), id="jwks with no key"),
        pytest.param("jwks", json.dumps({"keys": ["k"]}), id="keys that are not objects"),
        pytest.param("jwks", 42, id="jwks given as a number"),
    ],
)
def test_a_bad_jwt_key_source_is_rejected_with_its_path(field, value):
    document = with_field(require_auth(), f"{JWT}.{field}", value)

    error = rejected(
        parse_security_policy,
        document,
        code="LUCID_ERR_1102",
        path=f"{JWT}.{field}",
        value=value if not isinstance(value, str) or field == "jwksUri" else value[:80],
    )
    assert error.rule


def test_a_jwks_uri_and_an_inline_jwks_together_are_rejected():
    document = require_auth(jwksUri="https://auth.lucid.onion/keys", jwks=KEYS)

    error = rejected(
        parse_security_policy,
        document,
        code="LUCID_ERR_1102",
        path=f"{JWT}.jwks",
        value="https://auth.lucid.onion/keys",
    )
    assert "not both" in error.rule


def test_api_keys_name_their_header_and_keys():
    rule = security_rule(
        "require-auth",
        authentication={"methods": ["api-key"], "apiKeys": {"keys": ["k-123"]}},
    )

    policy = parse_security_policy(security_policy(rules=[rule]))

    api_keys = policy.rules[0].authentication.apiKeys
    assert (api_keys.header, api_keys.keys) == ("x-api-key", ["k-123"])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("apiKeys.keys", [], id="no key"),
        pytest.param("apiKeys.keys.0", "", id="an empty key"),
        pytest.param("apiKeys.header", "x api key", id="a header name with spaces"),
    ],
)
def test_bad_api_keys_are_rejected_with_their_path(path, value):
    rule = security_rule(
        "require-auth",
        authentication={"methods": ["api-key"], "apiKeys": {"keys": ["k-123"]}},
    )
    document = with_field(security_policy(rules=[rule]), f"rules.0.authentication.{path}", value)

    rejected(
        parse_security_policy,
        document,
        code="LUCID_ERR_1102",
        path=f"rules.0.authentication.{path}",
        value=value,
    )
