"""A mesh with every feature in use, for `lucid render` and `envoy --mode validate` tests.

Kept apart from `tests/builders.py` (the minimal documents) because it is one large,
deliberate fixture: every translator path exercised at once.
"""

from __future__ import annotations

from tests.builders import (
    Document,
    circuit_break_policy,
    endpoint,
    health_check,
    instance,
    load_balancing,
    monitoring_config,
    policy_rule,
    resource_config,
    retry_config,
    route,
    routing,
    security_policy,
    security_rule,
    sidecar_for,
    sidecar_policy,
    timeout_config,
    traffic_policy,
    traffic_rule,
)

# A public JSON Web Key Set (EC P-256) for inline JWT verification.
JWKS = (
    '{"keys": [{"alg": "ES256", "crv": "P-256", "kid": "lucid-test", "kty": "EC", '
    '"use": "sig", "x": "w6rRLLh5NmmTUx4txDhqvDQTWOAtsoJJCcjymRh9jao", '
    '"y": "mU66iOb34PiRqHYZM70NIG2lFQqHAi-ImdI6ImtU3U4"}]}'
)

# The sidecar nodes of `every_feature_mesh` (instanceIds); grpc-client-1 is also proxyless.
EVERY_FEATURE_NODES = (
    "gateway-1",
    "chain-1",
    "chain-2",
    "canary-1",
    "recorder-1",
    "audit-1",
    "payments-1",
    "legacy-1",
    "ledger-1",
    "grpc-client-1",
)


def _grpc(host: str) -> Document:
    return endpoint(host=host, port=8080, protocol="grpc")


def every_feature_mesh(cert: str, key: str, ca: str) -> dict[str, list[Document]]:
    """Registrations, sidecars, traffic and security policies using every spec feature the
    translators map: all protocols (with endpoint TLS from the given PEMs), DNS and IP hosts,
    several planes, every load-balancing algorithm, sticky sessions, routes with every match
    kind and splits, retries, timeouts, every sidecar policy type, traffic redirect, mirror,
    split, allow and deny, JWT, roles, permissions, api keys, mTLS (mesh and explicit
    certificates), every authorization policy, access logs and tracing, connection limits.
    """
    tls = {"enabled": True, "certAuthority": ca, "clientCert": cert, "clientKey": key}
    grpc_check = health_check(grpcCheck={"service": "lucid.chain.v1.BlockService"})
    registrations = [
        instance(
            "api-gateway",
            1,
            instanceId="gateway-1",
            cluster="api-gateway",
            plane="ops",
            metadata={
                "dependencies": [
                    "blockchain-core",
                    "blockchain-core-canary",
                    "session-recorder",
                    "session-audit",
                    "tron-payment-service",
                    "legacy-dns",
                    "grpcs-ledger",
                ]
            },
        ),
        instance(
            "blockchain-core",
            2,
            instanceId="chain-1",
            endpoint=_grpc("10.0.0.2"),
            healthCheck=grpc_check,
        ),
        instance(
            "blockchain-core",
            3,
            instanceId="chain-2",
            plane="wallet",
            endpoint=_grpc("10.0.0.3"),
            healthCheck=grpc_check,
        ),
        instance("blockchain-core-canary", 4, instanceId="canary-1", endpoint=_grpc("10.0.0.4")),
        instance(
            "session-recorder",
            5,
            instanceId="recorder-1",
            plane="ops",
            cluster="session-management",
            metadata={"weight": 1},
        ),
        instance(
            "session-recorder",
            6,
            instanceId="recorder-2",
            plane="ops",
            cluster="session-management",
            metadata={"weight": 3},
        ),
        instance(
            "session-audit", 7, instanceId="audit-1", plane="ops", cluster="session-management"
        ),
        instance(
            "tron-payment-service",
            8,
            instanceId="payments-1",
            plane="wallet",
            cluster="tron-payment",
            endpoint=endpoint(host="10.0.0.8", port=8443, protocol="https", tls=tls),
            healthCheck=health_check(
                httpCheck={
                    "method": "POST",
                    "body": "ping",
                    "headers": {"x-probe": "1"},
                    "expectedStatus": [200, 204],
                }
            ),
        ),
        instance(
            "legacy-dns",
            9,
            instanceId="legacy-1",
            plane="ops",
            endpoint=endpoint(host="legacy.lucid.onion", port=8080),
        ),
        instance(
            "grpcs-ledger",
            11,
            instanceId="ledger-1",
            endpoint=endpoint(
                host="10.0.0.11", protocol="grpcs", tls={"enabled": True, "certAuthority": ca}
            ),
        ),
        instance("grpc-client", 10, instanceId="grpc-client-1", endpoint=_grpc("10.0.0.10")),
    ]
    gateway_routes = [
        route(match={"path": "/api/v1/sessions/*"}, destination="session-recorder", timeout=5000),
        route(
            match={"path": "/api/v1/payments/*", "method": "POST"},
            destination="tron-payment-service",
            timeout=15000,
            retry=retry_config(
                maxAttempts=2,
                initialDelay=200,
                maxDelay=2000,
                retryableErrors=["connection-error", "refused-stream", "5xx"],
            ),
        ),
        route(
            match={
                "path": "/api/v1/blocks/*",
                "headers": {"x-canary": "true"},
                "query": {"v": "2"},
            },
            destination="blockchain-core",
            weight=80,
        ),
        route(
            match={
                "path": "/api/v1/blocks/*",
                "headers": {"x-canary": "true"},
                "query": {"v": "2"},
            },
            destination="blockchain-core-canary",
            weight=20,
        ),
        route(match={"path": "/legacy/*", "method": "GET"}, destination="legacy-dns"),
        route(match={"path": "/ledger"}, destination="grpcs-ledger"),
    ]
    mtls = {
        "mTLS": {"enabled": True},
        "authentication": {"required": True, "methods": ["jwt", "mtls"]},
        "authorization": {"enabled": True, "policy": "rbac"},
    }
    sidecars = [
        sidecar_for(
            1,
            routing=routing(
                defaultRoute="blockchain-core",
                routes=gateway_routes,
                loadBalancing=load_balancing(algorithm="least-connections"),
                retry=retry_config(
                    maxAttempts=3, initialDelay=250, maxDelay=4000, backoffMultiplier=3.0
                ),
                timeout=timeout_config(connect=2000, request=30000, response=10000, idle=120000),
            ),
            policies=[
                sidecar_policy(
                    "rate-limit",
                    priority=200,
                    conditions={"path": "/api/*"},
                    rules=[
                        policy_rule(
                            "rate-limit",
                            parameters={"requests": 100, "unit": "second", "burst": 200},
                        )
                    ],
                ),
                circuit_break_policy(
                    maxConnections=1024,
                    maxPendingRequests=256,
                    maxRequests=512,
                    maxRetries=3,
                    errorTypes=["5xx", "gateway-error", "timeout"],
                ),
                sidecar_policy("retry"),
                sidecar_policy("timeout"),
                sidecar_policy(
                    "auth",
                    policyId="auth-admin",
                    rules=[policy_rule("deny", match={"path": "/admin/*"})],
                ),
                sidecar_policy("logging"),
            ],
            security=mtls,
            monitoring=monitoring_config(
                tracing={
                    "enabled": True,
                    "samplingRate": 0.25,
                    "endpoint": "http://otel.lucid.onion:4317",
                },
                logging={"enabled": True, "level": "error", "format": "text"},
            ),
            resources=resource_config(),
        ),
        sidecar_for(
            2,
            routing=routing(
                defaultRoute="blockchain-core",
                loadBalancing=load_balancing(
                    algorithm="consistent-hash", hashOn="header:x-session"
                ),
            ),
            security=mtls,
        ),
        sidecar_for(
            4,
            routing=routing(
                defaultRoute="blockchain-core-canary",
                loadBalancing=load_balancing(algorithm="random"),
            ),
            security={"mTLS": {"enabled": True}},
        ),
        sidecar_for(
            5,
            routing=routing(
                defaultRoute="session-recorder",
                loadBalancing=load_balancing(
                    algorithm="weighted",
                    stickySession={"enabled": True, "cookie": "lucid-session", "ttl": 3600},
                ),
            ),
            security={
                "mTLS": {"enabled": True},
                "authorization": {"enabled": True, "policy": "allow-all"},
            },
        ),
        sidecar_for(
            7,
            routing=routing(defaultRoute="session-audit"),
            security={"authorization": {"enabled": True, "policy": "deny-all"}},
        ),
        sidecar_for(
            8,
            routing=routing(defaultRoute="tron-payment-service"),
            security={
                "mTLS": {"enabled": True, "certAuthority": ca, "clientCert": cert, "clientKey": key}
            },
        ),
    ]
    traffic = [
        traffic_policy(
            name="gateway-to-chain-canary",
            priority=200,
            rules=[
                traffic_rule(
                    "weighted-split",
                    match={"path": "/api/v2/blocks/*"},
                    parameters={
                        "destinations": [
                            {"destination": "blockchain-core", "weight": 90},
                            {"destination": "blockchain-core-canary", "weight": 10},
                        ]
                    },
                )
            ],
        ),
        traffic_policy(
            name="mirror-sessions",
            destination="session-recorder",
            rules=[
                traffic_rule(
                    "mirror", parameters={"destination": "session-audit", "percentage": 25}
                )
            ],
        ),
        traffic_policy(
            name="legacy-payments-redirect",
            destination="tron-payment-service",
            rules=[
                traffic_rule(
                    "redirect",
                    match={"path": "/api/v0/payments/*"},
                    parameters={"target": "/api/v1/payments", "statusCode": 308},
                )
            ],
        ),
        traffic_policy(
            name="ops-may-not-touch-wallet",
            source="plane:ops",
            destination="plane:wallet",
            priority=900,
            rules=[traffic_rule("deny")],
        ),
        traffic_policy(
            name="gateway-may-pay",
            destination="tron-payment-service",
            priority=950,
            rules=[traffic_rule("allow", match={"path": "/api/v1/payments/*", "method": "POST"})],
        ),
        traffic_policy(
            name="chain-to-canary",
            source="blockchain-core",
            destination="blockchain-core-canary",
            rules=[traffic_rule("allow")],
        ),
    ]
    security = [
        security_policy(
            name="payments-require-jwt",
            priority=500,
            rules=[
                security_rule(
                    "require-auth",
                    authentication={
                        "methods": ["jwt"],
                        "jwt": {
                            "issuer": "https://auth.lucid.onion",
                            "audience": "tron-payment-service",
                            "requiredClaims": {"scope": "payments"},
                            "jwks": JWKS,
                        },
                    },
                ),
                security_rule(
                    "require-role",
                    authorization={
                        "roles": ["payments-operator"],
                        "permissions": [
                            "POST:/api/v1/payments/*",
                            "GET:/api/v1/payments/*",
                            "port:8443",
                        ],
                    },
                ),
            ],
        ),
        security_policy(
            name="chain-requires-mtls",
            source="*",
            destination="cluster:blockchain-core",
            rules=[security_rule("require-mtls")],
        ),
        security_policy(
            name="no-admin-from-gateway",
            destination="blockchain-*",
            rules=[security_rule("deny", match={"path": "/admin/*"})],
        ),
        security_policy(
            name="recorder-api-keys",
            destination="session-recorder",
            rules=[
                security_rule(
                    "require-auth",
                    authentication={
                        "methods": ["api-key"],
                        "apiKeys": {"header": "x-api-key", "keys": ["k-1", "k-2"]},
                    },
                )
            ],
        ),
        security_policy(
            name="audit-jwks-uri",
            source="session-recorder",
            destination="session-audit",
            rules=[
                security_rule(
                    "require-auth",
                    authentication={
                        "methods": ["jwt"],
                        "jwt": {
                            "issuer": "https://auth.lucid.onion",
                            "jwksUri": "https://auth.lucid.onion/jwks.json",
                        },
                    },
                )
            ],
        ),
    ]
    return {
        "registrations": registrations,
        "sidecars": sidecars,
        "traffic": traffic,
        "security": security,
    }
