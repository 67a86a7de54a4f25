"""One mesh that uses every destination-side feature, shared by the mapping tests and the
real-Envoy validation: mTLS, a connection limit, JWT (remote and inline key sets), roles,
permissions, api-key, sidecar auth policies with a redirect, rate limits, plane isolation,
traffic allow/deny with query and label matches, tracing and a gateway's edge port."""

from __future__ import annotations

import json

from lucid.translators.node import Node
from tests.builders import (
    instance,
    policy_rule,
    resource_config,
    security_policy,
    security_rule,
    sidecar_for,
    sidecar_policy,
    traffic_policy,
    traffic_rule,
)

INLINE_JWKS = json.dumps({"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0", "alg": "HS256"}]})
NODE = Node(
    id="pay-1",
    service="tron-payment-service",
    plane="wallet",
    app_port=8080,
    inbound_port=15006,
    edge_port=15443,
)


def every_feature(mesh, *, mtls=True):
    registrations = [
        instance("tron-payment-service", 1, plane="wallet", metadata={"tier": "gold"}),
        instance("api-gateway", 2, plane="ops", metadata={"team": "edge"}),
        instance("blockchain-core", 3),
    ]
    security = {"mTLS": {"enabled": mtls}, "authorization": {"policy": "rbac"}}
    sidecar = sidecar_for(
        1,
        security=security,
        resources=resource_config(),
        monitoring={"tracing": {"samplingRate": 0.5, "endpoint": "otel.lucid.onion:4317"}},
        policies=[
            sidecar_policy(
                "rate-limit",
                policyId="api-limit",
                priority=200,
                conditions={"path": "/api/*", "source": "api-gateway"},
                rules=[
                    policy_rule(
                        "rate-limit",
                        parameters={"requests": 100, "unit": "minute", "burst": 20},
                        match={"method": "POST"},
                    )
                ],
            ),
            sidecar_policy(
                "rate-limit",
                policyId="all-limit",
                rules=[policy_rule("rate-limit", parameters={"requests": 5, "unit": "second"})],
            ),
            sidecar_policy(
                "auth",
                policyId="auth-rules",
                priority=300,
                conditions={"headers": {"x-tenant": "blocked"}},
                rules=[
                    policy_rule("deny", match={"path": "regex:/internal/.*"}),
                    policy_rule(
                        "redirect",
                        parameters={"target": "https://login.lucid.onion/login", "statusCode": 307},
                        match={"path": "/login"},
                    ),
                ],
            ),
        ],
    )
    jwt_remote = {"issuer": "https://auth.lucid.onion", "audience": "payments"}
    jwt_inline = {"issuer": "lucid-internal", "jwks": INLINE_JWKS, "requiredClaims": {"tier": 2}}
    security_policies = [
        security_policy(
            name="gateway-needs-jwt",
            source="api-gateway",
            destination="tron-payment-service",
            priority=500,
            rules=[
                security_rule(
                    "require-auth",
                    authentication={"methods": ["jwt"], "jwt": jwt_remote},
                    match={"path": "/api/*", "method": "POST"},
                ),
                security_rule(
                    "require-role",
                    authorization={
                        "roles": ["payments-operator"],
                        "permissions": ["POST:/api/v1/payouts/*", "GET", "port:9999"],
                    },
                ),
            ],
        ),
        security_policy(
            name="internal-jwt-or-key",
            source="*",
            destination="tron-payment-service",
            rules=[
                security_rule(
                    "require-auth",
                    match={"path": "/batch/*"},
                    authentication={
                        "methods": ["jwt", "api-key"],
                        "jwt": jwt_inline,
                        "apiKeys": {"keys": ["k-1", "k-2"]},
                    },
                ),
                security_rule("require-mtls", match={"path": "/mtls/*"}),
                security_rule("allow", match={"path": "/public/*"}),
            ],
        ),
    ]
    traffic = [
        traffic_policy(
            name="chain-reads",
            source="plane:chain",
            destination="tron-payment-service",
            rules=[
                traffic_rule(
                    "allow", match={"method": "GET", "destinationLabels": {"tier": "gold"}}
                ),
                traffic_rule("deny", match={"query": {"debug": "1"}}),
            ],
        ),
        traffic_policy(
            name="edge-team",
            source="*",
            destination="tron-payment-service",
            priority=50,
            rules=[traffic_rule("allow", match={"sourceLabels": {"team": "edge"}})],
        ),
    ]
    return mesh(registrations, [sidecar], traffic, security_policies)
