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
