"""Builders of minimal valid documents, as plain dicts, for every kind and sub-model.

Each builder returns a fresh document holding only what the spec requires (plus what a
realistic example needs), with values from the spec's examples: api-gateway,
blockchain-core, session-recorder, tron-payment-service. Keyword overrides replace
top-level fields; `with_field` and `without_field` reach into nested ones, so a test can
feed one invalid value into an otherwise valid document.
"""

from __future__ import annotations

import copy
from typing import Any

SERVICE_ID = "550e8400-e29b-41d4-a716-446655440000"
MESSAGE_ID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
EVENT_ID = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
CORRELATION_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
TIMESTAMP = "2025-01-10T12:00:00Z"

Document = dict[str, Any]


# Editing documents ---------------------------------------------------------------------


def _steps(path: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def with_field(document: Document, path: str, value: Any) -> Document:
    """A copy of `document` with the dotted `path` (list indexes as numbers) set to `value`.

    Missing objects along the way are created: `with_field(doc, "endpoint.tls.enabled", True)`.
    """
    result = copy.deepcopy(document)
    *parents, last = _steps(path)
    node: Any = result
    for step in parents:
        if isinstance(step, str) and step not in node:
            node[step] = {}
        node = node[step]
    node[last] = value
    return result


def without_field(document: Document, path: str) -> Document:
    """A copy of `document` with the field at the dotted `path` removed."""
    result = copy.deepcopy(document)
    *parents, last = _steps(path)
    node: Any = result
    for step in parents:
        node = node[step]
    del node[last]
    return result


# 1. Service identity -------------------------------------------------------------------


def service_identifier(**overrides: Any) -> Document:
    return {
        "serviceId": SERVICE_ID,
        "serviceName": "api-gateway",
        "cluster": "api-gateway",
        "plane": "ops",
        **overrides,
    }


def endpoint(**overrides: Any) -> Document:
    return {"host": "api-gateway.lucid.onion", "port": 8080, "protocol": "http", **overrides}


# 2. Service registration ---------------------------------------------------------------


def health_check(**overrides: Any) -> Document:
    return {"endpoint": "/health", "interval": 30, "timeout": 10, **overrides}


def registration(**overrides: Any) -> Document:
    """The api-gateway instance of the spec's examples."""
    return {
        "serviceId": SERVICE_ID,
        "serviceName": "api-gateway",
        "cluster": "api-gateway",
        "plane": "ops",
        "endpoint": endpoint(),
        "version": "1.0.0",
        "healthCheck": health_check(),
        **overrides,
    }


def health_status(**overrides: Any) -> Document:
    return {"status": "healthy", "timestamp": TIMESTAMP, **overrides}


# 6. Configuration (used inside sidecars and as rule parameters) --------------------------


def retry_config(**overrides: Any) -> Document:
    return {"maxAttempts": 3, **overrides}


def timeout_config(**overrides: Any) -> Document:
    return {"connect": 5000, "request": 30000, **overrides}


def circuit_breaker(**overrides: Any) -> Document:
    return {"failureThreshold": 5, "recoveryTimeout": 30, **overrides}


def security_config(**overrides: Any) -> Document:
    return {
        "mTLS": {"enabled": True},
        "authentication": {"required": True, "methods": ["mtls"]},
        "authorization": {"enabled": True, "policy": "rbac"},
        **overrides,
    }


def monitoring_config(**overrides: Any) -> Document:
    return {
        "metrics": {"enabled": True, "endpoint": "/metrics", "interval": 30},
        "tracing": {"enabled": True, "samplingRate": 0.1},
        "logging": {"enabled": True, "level": "info", "format": "json"},
        **overrides,
    }


def resource_config(**overrides: Any) -> Document:
    return {
        "limits": {"cpu": "500m", "memory": "512Mi", "connections": 1000},
        "requests": {"cpu": "100m", "memory": "128Mi", "connections": 10},
        **overrides,
    }


# Rule parameters, one minimal valid set per action ---------------------------------------


def rule_parameters(action: str) -> Document | None:
    """Minimal valid `parameters` of a rule with `action` (None for allow and deny)."""
    return {
        "allow": None,
        "deny": None,
        "redirect": {"target": "/api/v2"},
        "mirror": {"destination": "session-recorder", "percentage": 10},
        "weighted-split": {
            "destinations": [
                {"destination": "blockchain-core", "weight": 90},
                {"destination": "blockchain-core-canary", "weight": 10},
            ]
        },
        "rate-limit": {"requests": 100, "unit": "second"},
        "circuit-break": circuit_breaker(),
        "retry": retry_config(),
        "timeout": timeout_config(),
    }[action]


def _rule(action: str, overrides: dict[str, Any]) -> Document:
    rule: Document = {"action": action}
    parameters = rule_parameters(action)
    if parameters is not None:
        rule["parameters"] = parameters
    return {**rule, **overrides}


# 3. Sidecar ----------------------------------------------------------------------------

# The rule action each sidecar policy type takes (auth and logging take allow by default).
POLICY_ACTIONS = {
    "rate-limit": "rate-limit",
    "circuit-breaker": "circuit-break",
    "retry": "retry",
    "timeout": "timeout",
    "auth": "allow",
    "logging": "allow",
}


def policy_rule(action: str = "rate-limit", **overrides: Any) -> Document:
    return _rule(action, overrides)


def sidecar_policy(type: str = "rate-limit", **overrides: Any) -> Document:
    """A sidecar policy of `type` with one rule of the matching action."""
    return {
        "policyId": f"{type}-api-calls",
        "type": type,
        "rules": [policy_rule(POLICY_ACTIONS[type])],
        **overrides,
    }


def route(**overrides: Any) -> Document:
    return {"match": {"path": "/api/v1/*"}, "destination": "blockchain-core", **overrides}


def load_balancing(**overrides: Any) -> Document:
    return {"algorithm": "round-robin", **overrides}


def routing(**overrides: Any) -> Document:
    return {"defaultRoute": "blockchain-core", **overrides}


def sidecar(**overrides: Any) -> Document:
    """The api-gateway's sidecar: one rate-limit policy, everything else to blockchain-core."""
    return {
        "serviceId": SERVICE_ID,
        "policies": [sidecar_policy()],
        "routing": routing(),
        **overrides,
    }


# 4. Service mesh -----------------------------------------------------------------------


def traffic_rule(action: str = "allow", **overrides: Any) -> Document:
    return _rule(action, overrides)


def traffic_policy(**overrides: Any) -> Document:
    return {
        "name": "api-gateway-to-blockchain",
        "source": "api-gateway",
        "destination": "blockchain-core",
        "rules": [traffic_rule()],
        **overrides,
    }


def security_rule(action: str = "allow", **overrides: Any) -> Document:
    """A security rule with what its action needs (methods for require-auth, roles ...)."""
    rule: Document = {"action": action}
    if action == "require-auth":
        rule["authentication"] = {
            "methods": ["jwt"],
            "jwt": {"issuer": "https://auth.lucid.onion", "audience": "lucid-api"},
        }
    if action == "require-role":
        rule["authorization"] = {"roles": ["payment-operator"]}
    return {**rule, **overrides}


def security_policy(**overrides: Any) -> Document:
    return {
        "name": "payments-need-auth",
        "source": "api-gateway",
        "destination": "tron-payment-service",
        "rules": [security_rule("require-auth")],
        **overrides,
    }


# 5. Inter-service communication --------------------------------------------------------


def message(**overrides: Any) -> Document:
    return {
        "messageId": MESSAGE_ID,
        "source": "api-gateway",
        "destination": "blockchain-core",
        "payload": {"sessionId": "sess-42", "action": "anchor"},
        **overrides,
    }


def message_status(**overrides: Any) -> Document:
    return {"messageId": MESSAGE_ID, "status": "delivered", "timestamp": TIMESTAMP, **overrides}


def event(**overrides: Any) -> Document:
    return {
        "eventId": EVENT_ID,
        "eventType": "session.created",
        "source": "session-recorder",
        "timestamp": TIMESTAMP,
        "data": {"sessionId": "sess-42"},
        **overrides,
    }


def subscription(**overrides: Any) -> Document:
    return {
        "subscriberId": "blockchain-core",
        "eventTypes": ["session.*", "block.*"],
        **overrides,
    }


# Manifests (policy YAML documents, REST bodies of /v1/apply) ----------------------------


def manifest(kind: str, spec: Document) -> Document:
    """A manifest as `lucid apply` reads it: `manifest("TrafficPolicy", traffic_policy())`."""
    return {"apiVersion": "lucid.mesh/v1", "kind": kind, "spec": spec}


# Translator inputs: many instances of many services ------------------------------------


def numbered_service_id(number: int) -> str:
    """A distinct, valid serviceId per number: `numbered_service_id(7)` ends in ...000007."""
    return f"00000000-0000-4000-8000-{number:012d}"


def instance(name: str, number: int = 1, **overrides: Any) -> Document:
    """A registration of service `name`, instance `number`, listening on 10.0.0.<number>."""
    fields: Document = {
        "serviceId": numbered_service_id(number),
        "serviceName": name,
        "cluster": "blockchain-core",
        "plane": "chain",
        "endpoint": endpoint(host=f"10.0.0.{number}", port=8080),
    }
    return registration(**{**fields, **overrides})


def sidecar_for(number: int, **overrides: Any) -> Document:
    """The sidecar configuration of the instance with `numbered_service_id(number)`."""
    return sidecar(**{"serviceId": numbered_service_id(number), "policies": [], **overrides})


def circuit_break_policy(priority: int = 100, **parameters: Any) -> Document:
    """A circuit-breaker sidecar policy with one circuit-break rule."""
    return sidecar_policy(
        "circuit-breaker",
        policyId=f"breaker-{priority}",
        priority=priority,
        rules=[policy_rule("circuit-break", parameters=circuit_breaker(**parameters))],
    )


# A mesh with every feature in use (lucid render, envoy --mode validate) ------------------

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
