"""Valid models survive YAML -> model -> store -> model unchanged, on every store backend.

Hypothesis generates valid documents of each kind (names, numbers at the edges of their
ranges, free-form metadata); each is written as a manifest, read back with the YAML loader,
applied to a real store and read back again.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lucid.kinds import BY_NAME
from lucid.manifests import dump_yaml, load_text
from lucid.resources import Resources

NAMES = st.from_regex(r"[a-z][a-z0-9-]{2,20}", fullmatch=True)
UUIDS = st.builds(lambda: str(uuid.uuid4())) | st.uuids().map(str)
CLUSTERS = st.sampled_from(["api-gateway", "blockchain-core", "tron-payment", "authentication"])
PLANES = st.sampled_from(["ops", "chain", "wallet"])
SELECTORS = NAMES | st.sampled_from(["*", "blockchain-*", "cluster:tron-payment", "plane:wallet"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def registrations(draw: st.DrawFn) -> dict[str, Any]:
    interval = draw(st.integers(5, 300))
    doc: dict[str, Any] = {
        "serviceId": draw(UUIDS),
        "serviceName": draw(NAMES),
        "cluster": draw(CLUSTERS),
        "plane": draw(PLANES),
        "version": draw(
            st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[a-z0-9]{1,6})?", fullmatch=True)
        ),
        "endpoint": {
            "host": draw(st.sampled_from(["10.0.1.100", "::1", "chain.lucid.onion", "localhost"])),
            "port": draw(st.integers(1, 65535)),
            "protocol": draw(st.sampled_from(["http", "https", "grpc", "grpcs"])),
        },
        "healthCheck": {
            "endpoint": "/health",
            "interval": interval,
            "timeout": draw(st.integers(1, min(60, interval - 1))),
            "retries": draw(st.integers(1, 10)),
        },
        "ttl": draw(st.integers(30, 3600)),
        "metadata": {"tags": draw(st.lists(TEXT, max_size=3)), "extra": draw(JSON)},
    }
    return doc


@st.composite
def traffic_policies(draw: st.DrawFn) -> dict[str, Any]:
    split = draw(st.integers(0, 100))
    rules = draw(
        st.lists(
            st.sampled_from(
                [
                    {"action": "allow", "match": {"method": "GET", "path": "/api/*"}},
                    {"action": "deny", "match": {"headers": {"x-debug": "1"}}},
                    {"action": "redirect", "parameters": {"target": "/v2", "statusCode": 301}},
                    {
                        "action": "mirror",
                        "parameters": {"destination": "audit-log", "percentage": 12.5},
                    },
                    {
                        "action": "weighted-split",
                        "parameters": {
                            "destinations": [
                                {"destination": "stable-svc", "weight": split},
                                {"destination": "canary-svc", "weight": 100 - split},
                            ]
                        },
                    },
                ]
            ),
            min_size=1,
            max_size=4,
        )
    )
    return {
        # Policy names are unique across traffic and security policies, and one store
        # serves every example: keep the two kinds' names apart.
        "name": "traffic-" + draw(NAMES),
        "source": draw(SELECTORS),
        "destination": draw(SELECTORS),
        "rules": rules,
        "priority": draw(st.integers(1, 1000)),
        "enabled": draw(st.booleans()),
        "labels": draw(st.dictionaries(NAMES, TEXT, max_size=3)),
    }


@st.composite
def security_policies(draw: st.DrawFn) -> dict[str, Any]:
    rules = draw(
        st.lists(
            st.sampled_from(
                [
                    {"action": "require-mtls"},
                    {"action": "deny", "match": {"path": "/admin/*"}},
                    {
                        "action": "require-auth",
                        "authentication": {
                            "methods": ["jwt"],
                            "jwt": {"issuer": "https://auth", "requiredClaims": {"scope": "x"}},
                        },
                    },
                    {"action": "require-role", "authorization": {"roles": ["admin"]}},
                ]
            ),
            min_size=1,
            max_size=3,
        )
    )
    return {
        "name": "security-" + draw(NAMES),
        "source": draw(SELECTORS),
        "destination": draw(SELECTORS),
        "rules": rules,
    }


@st.composite
def sidecars(draw: st.DrawFn) -> dict[str, Any]:
    initial = draw(st.integers(100, 10000))
    return {
        "serviceId": draw(UUIDS),
        "routing": {
            "defaultRoute": draw(NAMES),
            "retry": {
                "maxAttempts": draw(st.integers(1, 10)),
                "initialDelay": initial,
                "maxDelay": draw(st.integers(max(1000, initial), 60000)),
                "backoffMultiplier": draw(st.floats(1.0, 5.0)),
            },
            "loadBalancing": {
                "algorithm": draw(st.sampled_from(["round-robin", "random", "weighted"]))
            },
        },
        "policies": [
            {
                "policyId": "rate-limit-api",
                "type": "rate-limit",
                "rules": [
                    {
                        "action": "rate-limit",
                        "parameters": {"requests": draw(st.integers(1, 10**6))},
                    }
                ],
            }
        ],
        "monitoring": {"tracing": {"samplingRate": draw(st.floats(0.0, 1.0))}},
    }


@st.composite
def subscriptions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "subscriberId": draw(NAMES),
        "eventTypes": draw(
            st.lists(
                st.from_regex(r"[a-z]{1,8}\.(\*|[a-z]{1,8})", fullmatch=True),
                min_size=1,
                max_size=3,
            )
        ),
        "filters": {"data": draw(st.dictionaries(NAMES, JSON, max_size=2)), "custom": draw(JSON)},
        "batchSize": draw(st.integers(1, 1000)),
        "retryDelay": draw(st.integers(1000, 300000)),
    }


DOCUMENTS = st.one_of(
    registrations().map(lambda d: ("ServiceRegistration", d)),
    sidecars().map(lambda d: ("SidecarConfiguration", d)),
    traffic_policies().map(lambda d: ("TrafficPolicy", d)),
    security_policies().map(lambda d: ("SecurityPolicy", d)),
    subscriptions().map(lambda d: ("EventSubscription", d)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=DOCUMENTS)
def test_a_valid_model_survives_yaml_and_the_store_unchanged(store, document):
    kind_name, spec = document
    kind = BY_NAME[kind_name]
    original = kind.parse(spec)

    text = dump_yaml([{"apiVersion": "lucid.mesh/v1", "kind": kind_name, "spec": spec}])
    [manifest] = load_text(text, file="generated.yaml")
    assert manifest.model == original

    resources = Resources(store)
    resources.apply([manifest.model])
    assert resources.model(kind, kind.key_of(original)) == original
