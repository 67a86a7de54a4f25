"""Fields Envoy cannot honour exactly are named, with what is done instead.

One case per inexact mapping (docs/translation.md lists the same ones): each document is
valid, the note names the exact field path, and a document without such fields has none.
"""

from __future__ import annotations

import pytest

from lucid.models import (
    SecurityPolicy,
    ServiceRegistration,
    SidecarConfiguration,
    TrafficPolicy,
)
from lucid.translators.notes import notes
from tests.builders import (
    circuit_break_policy,
    health_check,
    policy_rule,
    registration,
    retry_config,
    route,
    routing,
    security_policy,
    security_rule,
    sidecar,
    sidecar_policy,
    traffic_policy,
    traffic_rule,
)

CASES = [
    (
        TrafficPolicy,
        traffic_policy(rules=[traffic_rule("allow", weight=30)]),
        "rules.0.weight",
        "weight is not used",
    ),
    (
        SidecarConfiguration,
        sidecar(
            policies=[
                sidecar_policy(
                    "timeout",
                    rules=[policy_rule("timeout", parameters={"connect": 1000})],
                )
            ]
        ),
        "policies.0.rules.0.parameters.connect",
        "belongs to the destination's cluster",
    ),
    (
        SidecarConfiguration,
        sidecar(routing=routing(retry=retry_config(backoffMultiplier=1.5))),
        "routing.retry.backoffMultiplier",
        "always doubles",
    ),
    (
        SidecarConfiguration,
        sidecar(
            routing=routing(
                routes=[route(retry=retry_config(backoffMultiplier=3))],
            )
        ),
        "routing.routes.0.retry.backoffMultiplier",
        "3 is not used",
    ),
    (
        SidecarConfiguration,
        sidecar(policies=[circuit_break_policy(halfOpenMaxCalls=5)]),
        "policies.0.rules.0.parameters.halfOpenMaxCalls",
        "no half-open state",
    ),
    (
        SidecarConfiguration,
        sidecar(policies=[circuit_break_policy(successThreshold=2)]),
        "policies.0.rules.0.parameters.successThreshold",
        "after recoveryTimeout",
    ),
    (
        SidecarConfiguration,
        sidecar(
            policies=[
                sidecar_policy(
                    "auth",
                    rules=[policy_rule("deny", match={"body": {"amount": 10}})],
                )
            ]
        ),
        "policies.0.rules.0.match.body",
        "left out of the translation",
    ),
    (
        ServiceRegistration,
        registration(healthCheck=health_check(grpcCheck={"service": "chain", "method": "Check"})),
        "healthCheck.grpcCheck.method",
        "checks a service, not a method",
    ),
    (
        SidecarConfiguration,
        sidecar(resources={"limits": {"cpu": "500m"}}),
        "resources.limits.cpu",
        "cannot enforce CPU or memory",
    ),
    (
        SidecarConfiguration,
        sidecar(resources={"requests": {"memory": "128Mi"}}),
        "resources.requests.memory",
        "cannot enforce CPU or memory",
    ),
    (
        SidecarConfiguration,
        sidecar(resources={"requests": {"connections": 5}}),
        "resources.requests.connections",
        "only limits.connections is enforced",
    ),
    (
        SidecarConfiguration,
        sidecar(monitoring={"metrics": {"endpoint": "/metrics"}}),
        "monitoring.metrics.endpoint",
        "/stats/prometheus",
    ),
    (
        SidecarConfiguration,
        sidecar(policies=[sidecar_policy("logging", rules=[policy_rule("allow")])]),
        "policies.0.type",
        "follows monitoring.logging",
    ),
    (
        SecurityPolicy,
        security_policy(
            rules=[
                security_rule(
                    "require-auth",
                    authentication={
                        "methods": ["oauth2", "jwt"],
                        "jwt": {"issuer": "https://issuer.example"},
                    },
                )
            ]
        ),
        "rules.0.authentication.methods.0",
        "verified as JWT",
    ),
    (
        SecurityPolicy,
        security_policy(
            rules=[security_rule("allow", authorization={"resourceAccess": {"wallets": "read"}})]
        ),
        "rules.0.authorization.resourceAccess",
        "recorded only",
    ),
]


@pytest.mark.parametrize(("model", "document", "path", "says"), CASES, ids=[c[2] for c in CASES])
def test_inexact_field_is_named_with_what_is_done_instead(model, document, path, says):
    found = notes(model.model_validate(document))

    assert [n.path for n in found] == [path]
    assert says in found[0].message


def test_a_document_that_maps_exactly_has_no_notes():
    document = sidecar(
        routing=routing(retry=retry_config(backoffMultiplier=2)),
        policies=[circuit_break_policy(maxConnections=10)],
    )

    assert notes(SidecarConfiguration.model_validate(document)) == []
