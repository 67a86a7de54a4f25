"""A large, realistic mesh for benchmarks: N services x K instances, with policies.

Deterministic (seeded), so two runs translate the same state. Each service declares a few
`metadata.dependencies` (as DESIGN.md recommends for large meshes: a sidecar receives only
the destinations it needs), has a sidecar configuration with retries, timeouts, a rate
limit, a circuit breaker, varied load balancing and, for every other service, mTLS; traffic
policies split, mirror, redirect, allow and deny between dependencies; security policies
require JWTs, roles or deny by path. `scoped=False` drops the dependencies: every sidecar
then reaches every service.
"""

from __future__ import annotations

import json
import random
from typing import Any

from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.models.common import CLUSTERS, PLANES

ALGORITHMS = ("round-robin", "least-connections", "random", "weighted", "consistent-hash")
JWKS = json.dumps(
    {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "kid": "bench",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            }
        ]
    }
)


def service_name(index: int) -> str:
    return f"svc-{index:04d}"


def service_id(index: int, instance: int) -> str:
    return f"00000000-0000-4000-8000-{index * 10 + instance:012d}"


def _registration(index: int, instance: int, deps: list[str]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "serviceId": service_id(index, instance),
        "serviceName": service_name(index),
        "instanceId": f"{service_name(index)}-{instance}",
        "cluster": CLUSTERS[index % len(CLUSTERS)],
        "plane": PLANES[index % len(PLANES)],
        "version": "1.0.0",
        "endpoint": {
            "host": f"10.{index // 250}.{index % 250}.{instance + 1}",
            "port": 8080,
            "protocol": "grpc" if index % 7 == 0 else "http",
        },
        "healthCheck": {"endpoint": "/health", "interval": 10, "timeout": 2},
        "metadata": {"weight": instance + 1},
    }
    if deps:
        document["metadata"]["dependencies"] = deps
    return document


def _sidecar(index: int, deps: list[str]) -> dict[str, Any]:
    algorithm = ALGORITHMS[index % len(ALGORITHMS)]
    sidecar: dict[str, Any] = {
        "serviceId": service_id(index, 0),
        "routing": {
            "defaultRoute": deps[0] if deps else service_name((index + 1) % 1000),
            "loadBalancing": {"algorithm": algorithm},
            "retry": {"maxAttempts": 3, "initialDelay": 100, "maxDelay": 2000},
            "timeout": {"connect": 1000, "request": 15000, "idle": 60000},
        },
        "policies": [
            {
                "policyId": "limit",
                "type": "rate-limit",
                "conditions": {"path": "/api/*"},
                "rules": [
                    {"action": "rate-limit", "parameters": {"requests": 100, "unit": "second"}}
                ],
            },
            {
                "policyId": "breaker",
                "type": "circuit-breaker",
                "rules": [
                    {
                        "action": "circuit-break",
                        "parameters": {"failureThreshold": 5, "recoveryTimeout": 30},
                    }
                ],
            },
        ],
        "monitoring": {"logging": {"enabled": True, "format": "json"}},
    }
    if algorithm == "consistent-hash":
        sidecar["routing"]["loadBalancing"]["hashOn"] = "header:x-user"
    if index % 2 == 0:
        sidecar["security"] = {"mTLS": {"enabled": True}}
    return sidecar


def _traffic(number: int, rng: random.Random, deps: dict[int, list[str]]) -> dict[str, Any]:
    source = rng.randrange(len(deps))
    targets = deps[source] or [service_name((source + 1) % len(deps))]
    destination = targets[0]
    kind = number % 5
    if kind == 0 and len(targets) > 1:
        rule: dict[str, Any] = {
            "action": "weighted-split",
            "parameters": {
                "destinations": [
                    {"destination": targets[0], "weight": 80},
                    {"destination": targets[1], "weight": 20},
                ]
            },
        }
    elif kind == 1 and len(targets) > 1:
        rule = {
            "action": "mirror",
            "match": {"path": "/api/*"},
            "parameters": {"destination": targets[1], "percentage": 10},
        }
    elif kind == 2:
        rule = {
            "action": "redirect",
            "match": {"path": f"/old/{number}"},
            "parameters": {"target": f"/new/{number}", "statusCode": 301},
        }
    else:
        rule = {"action": "deny" if kind == 3 else "allow", "match": {"method": "DELETE"}}
    return {
        "name": f"traffic-{number:04d}",
        "source": service_name(source),
        "destination": destination,
        "priority": 100 + number % 50,
        "rules": [rule],
    }


def _security(number: int, services: int) -> dict[str, Any]:
    destination = service_name((number * 5) % services)
    kind = number % 3
    if kind == 0:
        rule: dict[str, Any] = {
            "action": "require-auth",
            "authentication": {
                "methods": ["jwt"],
                "jwt": {"issuer": "https://auth.lucid.onion", "audience": "mesh", "jwks": JWKS},
            },
            "match": {"path": "/admin/*"},
        }
    elif kind == 1:
        rule = {"action": "require-role", "authorization": {"roles": ["operator"]}}
    else:
        rule = {"action": "deny", "match": {"path": "/internal/*"}}
    return {
        "name": f"security-{number:04d}",
        "source": "plane:ops",
        "destination": destination,
        "rules": [rule],
    }


def generate(
    services: int = 1000,
    instances: int = 3,
    traffic: int = 1000,
    security: int = 200,
    *,
    dependencies: int = 5,
    scoped: bool = True,
    seed: int = 7,
) -> tuple[
    list[ServiceRegistration],
    list[SidecarConfiguration],
    list[TrafficPolicy],
    list[SecurityPolicy],
]:
    """Validated models of the whole mesh (validation is not what is measured)."""
    rng = random.Random(seed)
    deps = {
        i: sorted(
            {service_name(rng.randrange(services)) for _ in range(dependencies)} - {service_name(i)}
        )
        for i in range(services)
    }
    registrations = [
        ServiceRegistration.model_validate(_registration(i, n, deps[i] if scoped else []))
        for i in range(services)
        for n in range(instances)
    ]
    sidecars = [SidecarConfiguration.model_validate(_sidecar(i, deps[i])) for i in range(services)]
    traffic_policies = [
        TrafficPolicy.model_validate(_traffic(n, rng, deps)) for n in range(traffic)
    ]
    security_policies = [
        SecurityPolicy.model_validate(_security(n, services)) for n in range(security)
    ]
    return registrations, sidecars, traffic_policies, security_policies
