"""Scenario 10: security, enforced by each destination's inbound sidecar.

- `vault`: a security policy denies `web` everything under `/admin/*` → 403; other paths
  pass.
- `payments`: JWTs are required (issuer, audience, a `scope` claim) and the role
  `payments-operator`. Keys are generated here and given inline as a JWKS, so nothing is
  fetched: no token → 401, a token signed by another key → 401, a valid token → 200, a
  valid token without the claim or without the role → 403.
- `ledger`: mesh mTLS. Sidecar to sidecar works and the app sees the caller's SPIFFE id
  in `x-forwarded-client-cert`; a plaintext connection to its inbound port, or TLS
  without a client certificate, gets no HTTP answer at all.
- `purse` (plane wallet): `web` (plane ops) is denied by plane isolation, until a
  traffic policy allows it, and then only on what it allows.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.harness.mesh import Instance, Mesh, document
from tests.e2e.harness.processes import wait_until

ISSUER = "https://issuer.e2e.lucid.test"
KEY_ID = "e2e-key"
# A policy change reaches the sidecars within the push debounce plus one xDS round trip.
PROPAGATION_S = 15


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(key: rsa.RSAPrivateKey) -> str:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid=KEY_ID, alg="RS256", use="sig")
    return json.dumps({"keys": [public]})


def token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "payments", "sub": "alice", "iat": now, "exp": now + 3600}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": KEY_ID})


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa_key()


def sidecar(instance: Instance, security: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceId": instance.service_id,
        "policies": [],
        "routing": {"defaultRoute": instance.service},
    }
    if security:
        spec["security"] = security
    return document("SidecarConfiguration", spec)


@pytest.fixture(scope="module")
def mesh(
    mesh_in: Callable[..., AbstractContextManager[Mesh]], signing_key: rsa.RSAPrivateKey
) -> Iterator[Mesh]:
    with mesh_in() as mesh:
        web = mesh.add_instance("web", cluster="api-gateway")
        vault = mesh.add_instance("vault")
        payments = mesh.add_instance("payments")
        ledger = mesh.add_instance("ledger")
        purse = mesh.add_instance("purse", plane="wallet", cluster="tron-payment")
        mesh.register()
        jwt_rules = [
            {
                "action": "require-auth",
                "authentication": {
                    "methods": ["jwt"],
                    "jwt": {
                        "issuer": ISSUER,
                        "audience": "payments",
                        "requiredClaims": {"scope": "payments"},
                        "jwks": jwks(signing_key),
                    },
                },
            },
            {"action": "require-role", "authorization": {"roles": ["payments-operator"]}},
        ]
        mesh.apply(
            [
                sidecar(web),
                sidecar(vault),
                sidecar(payments),
                sidecar(ledger, {"mTLS": {"enabled": True}}),
                sidecar(purse),
                document(
                    "SecurityPolicy",
                    {
                        "name": "no-admin-for-web",
                        "source": "web",
                        "destination": "vault",
                        "rules": [{"action": "deny", "match": {"path": "/admin/*"}}],
                    },
                ),
                document(
                    "SecurityPolicy",
                    {
                        "name": "payments-need-operators",
                        "source": "*",
                        "destination": "payments",
                        "priority": 500,
                        "rules": jwt_rules,
                    },
                ),
            ],
            "security",
        )
        mesh.start_sidecars(web, vault, payments, ledger, purse)
        yield mesh


def test_a_deny_rule_answers_403_on_what_it_matches_only(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    denied = web.call("vault", "/admin/keys")
    assert denied.status_code == 403
    assert denied.text == "RBAC: access denied"
    assert web.call("vault", "/public/keys").status_code == 200
    assert mesh.instances["vault-01"].http_app.counts()["by_path"] == {"/public/keys": 1}


def test_jwt_missing_or_badly_signed_is_401(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    assert web.call("payments", "/pay").status_code == 401
    forged = token(rsa_key(), scope="payments", roles=["payments-operator"])
    answer = web.call("payments", "/pay", headers={"authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert mesh.instances["payments-01"].http_app.counts()["total"] == 0


def test_a_valid_jwt_with_the_claim_and_role_is_let_through(
    mesh: Mesh, signing_key: rsa.RSAPrivateKey
) -> None:
    web = mesh.instances["web-01"]
    good = token(signing_key, scope="payments", roles=["payments-operator"])
    answer = web.call("payments", "/pay", headers={"authorization": f"Bearer {good}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["instance"] == "payments-01"


@pytest.mark.parametrize(
    "claims",
    [{"roles": ["payments-operator"]}, {"scope": "payments", "roles": ["viewer"]}],
    ids=["without the required claim", "without the required role"],
)
def test_a_valid_jwt_missing_a_claim_or_role_is_403(
    mesh: Mesh, signing_key: rsa.RSAPrivateKey, claims: dict[str, Any]
) -> None:
    web = mesh.instances["web-01"]
    lacking = token(signing_key, **claims)
    answer = web.call("payments", "/pay", headers={"authorization": f"Bearer {lacking}"})
    assert answer.status_code == 403


def test_sidecar_to_sidecar_mtls_carries_the_callers_identity(mesh: Mesh) -> None:
    answer = mesh.instances["web-01"].call("ledger", "/entries")
    assert answer.status_code == 200, answer.text
    assert "URI=spiffe://lucid.mesh/plane/ops/service/web" in answer.json()["xfcc"]


def tls_without_a_certificate(port: int) -> None:
    """Speak TLS to `port` presenting no client certificate, and read the answer."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="ledger.lucid.onion") as tls,
    ):
        tls.sendall(b"GET /entries HTTP/1.1\r\nhost: ledger\r\n\r\n")
        if not tls.recv(1024):
            raise ConnectionError("closed without an answer")


def test_plaintext_or_certificateless_tls_to_an_mtls_inbound_port_is_refused(mesh: Mesh) -> None:
    ledger = mesh.instances["ledger-01"]
    ledger.http_app.reset()
    port = ledger.inbound_port
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/entries", headers={"host": "ledger"}, timeout=5)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        tls_without_a_certificate(port)
    assert ledger.http_app.counts()["total"] == 0


def test_plane_isolation_denies_ops_to_wallet_until_a_policy_allows_it(mesh: Mesh) -> None:
    web = mesh.instances["web-01"]
    assert web.call("purse", "/balance").status_code == 403
    mesh.apply(
        [
            document(
                "TrafficPolicy",
                {
                    "name": "web-may-read-balances",
                    "source": "web",
                    "destination": "purse",
                    "rules": [{"action": "allow", "match": {"path": "/balance/*"}}],
                },
            )
        ],
        "allow-web-to-purse",
    )
    wait_until(
        lambda: web.call("purse", "/balance/eur").status_code == 200,
        timeout=PROPAGATION_S,
        what="the allow policy to reach purse's sidecar",
    )
    assert web.call("purse", "/withdraw").status_code == 403
