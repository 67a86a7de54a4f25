"""JWT on the destination, on the wire: a real Envoy runs the generated inbound listener
with an inline key set (the `jwks` Lucid extension), and tokens signed with pyjwt.

Missing or badly signed token where a require-auth rule applies → 401 (jwt_authn); a valid
token without the required claims or role → 403 (RBAC on the payload metadata); a bad
token is refused everywhere, a missing one only where a rule requires it. The same Envoy
shows the rate limit: the third request in a minute to a 2-per-minute route gets 429.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lucid.translators import inbound
from lucid.translators.node import Node
from tests.builders import (
    instance,
    policy_rule,
    security_policy,
    security_rule,
    sidecar_for,
    sidecar_policy,
)
from tests.e2e.harness.processes import free_port
from tests.unit.translators.destination_envoy import (
    local_app,
    request,
    running_envoy,
    static_bootstrap,
)

ISSUER = "https://issuer.lucid.test"


@pytest.fixture(scope="module")
def keys():
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(good.public_key()))
    jwks = json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]})
    return good, other, jwks


def token(key, **claims):
    payload = {"iss": ISSUER, "aud": "pay", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def jwt_mesh(mesh, jwks):
    auth = {
        "methods": ["jwt"],
        "jwt": {
            "issuer": ISSUER,
            "audience": "pay",
            "jwks": jwks,
            "requiredClaims": {"scope": "payments"},
        },
    }
    policy = security_policy(
        name="pay-needs-jwt",
        source="*",
        destination="pay",
        rules=[
            security_rule("require-auth", match={"path": "/secure/*"}, authentication=auth),
            security_rule(
                "require-role",
                authorization={"roles": ["operator"], "permissions": ["GET:/secure/ops/*"]},
                authentication=auth,
            ),
        ],
    )
    limited = sidecar_policy(
        "rate-limit",
        conditions={"path": "/limited/*"},
        rules=[policy_rule("rate-limit", parameters={"requests": 2, "unit": "minute"})],
    )
    sidecar = sidecar_for(1, security={"mTLS": {"enabled": False}}, policies=[limited])
    return mesh([instance("pay", 1), instance("web", 2)], [sidecar], security=[policy])


@pytest.fixture(scope="module")
def port(tmp_path_factory, keys):
    from tests.unit.translators.conftest import make_mesh

    state = jwt_mesh(make_mesh, keys[2])
    port = free_port()
    with local_app() as app_port:
        node = Node(id="pay", service="pay", plane="chain", app_port=app_port, inbound_port=port)
        bootstrap = static_bootstrap(
            [inbound.inbound_listener(state, node)],
            [inbound.inbound_route_configuration(state, node)],
            inbound.local_clusters(state, node),
        )
        with running_envoy(bootstrap, tmp_path_factory.mktemp("jwt"), port):
            yield port


def bearer(value):
    return {"authorization": f"Bearer {value}", "x-lucid-source": "web"}


def test_a_path_no_rule_covers_needs_no_token(port):
    assert request(port, "/open", {"x-lucid-source": "web"})[0] == 200


def test_a_bad_token_is_refused_even_where_none_is_needed(port, keys):
    assert request(port, "/open", bearer(token(keys[1], scope="payments")))[0] == 401


def test_a_missing_token_where_require_auth_applies_is_401(port):
    assert request(port, "/secure/x", {"x-lucid-source": "web"})[0] == 401


def test_a_token_signed_with_another_key_is_401(port, keys):
    assert request(port, "/secure/x", bearer(token(keys[1], scope="payments")))[0] == 401


def test_a_valid_token_with_the_required_claims_passes(port, keys):
    assert request(port, "/secure/x", bearer(token(keys[0], scope="payments")))[0] == 200


def test_a_valid_token_without_the_required_claim_is_403(port, keys):
    assert request(port, "/secure/x", bearer(token(keys[0], scope="reports")))[0] == 403


def test_a_token_for_another_audience_is_refused_by_jwt_authn_with_403(port, keys):
    """Envoy answers an audience mismatch with 403 (and `error="invalid_token"`), not 401."""
    wrong = jwt.encode(
        {"iss": ISSUER, "aud": "other", "exp": int(time.time()) + 600, "scope": "payments"},
        keys[0],
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    status, headers = request(port, "/secure/x", bearer(wrong))

    assert status == 403
    assert 'error="invalid_token"' in headers["www-authenticate"]


@pytest.mark.parametrize(
    ("roles", "status"),
    [([], 403), (["viewer"], 403), (["viewer", "operator"], 200), ("operator", 200)],
)
def test_require_role_reads_the_roles_claim(port, keys, roles, status):
    claims = {"scope": "payments", "roles": roles}

    assert request(port, "/secure/ops/restart", bearer(token(keys[0], **claims)))[0] == status


def test_the_third_request_in_a_minute_is_rate_limited(port):
    statuses = [request(port, "/limited/a", {"x-lucid-source": "web"}) for _ in range(3)]

    assert [status for status, _ in statuses] == [200, 200, 429]
    assert statuses[0][1]["x-ratelimit-limit"] == "2"
    assert request(port, "/open", {"x-lucid-source": "web"})[0] == 200
