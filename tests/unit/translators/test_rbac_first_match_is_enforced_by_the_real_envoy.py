"""The resolution rule, proven on the wire: a real Envoy runs the generated inbound
listeners of four services in front of a local app, and callers named by the
`x-lucid-source` header (no mTLS) get 200 or 403.

Rules are evaluated by priority (higher first), deny before allow at equal priority, the
first match decides; then plane isolation; then authorization.policy (rbac: deny when an
allow rule targets the service, else allow; allow-all; deny-all).
"""

from __future__ import annotations

import pytest

from lucid.translators import inbound
from lucid.translators.node import Node
from tests.builders import (
    instance,
    policy_rule,
    security_policy,
    security_rule,
    sidecar_for,
    sidecar_policy,
    traffic_policy,
    traffic_rule,
)
from tests.e2e.harness.processes import free_port
from tests.unit.translators.destination_envoy import (
    local_app,
    request,
    running_envoy,
    static_bootstrap,
)

NO_MTLS = {"mTLS": {"enabled": False}}
SERVICES = {
    "orders": (1, "chain"),
    "payments": (2, "chain"),
    "ledger": (3, "chain"),
    "vault": (4, "chain"),
    "web": (11, "chain"),
    "admin": (12, "chain"),
    "batch": (13, "chain"),
    "wallet-ui": (21, "wallet"),
    "wallet-core": (22, "wallet"),
}


def rules_mesh(mesh):
    registrations = [instance(n, i, plane=p) for n, (i, p) in SERVICES.items()]
    sidecars = [
        sidecar_for(
            1,
            security=NO_MTLS,
            policies=[
                sidecar_policy(
                    "auth",
                    policyId="no-admin-root",
                    priority=150,
                    conditions={"source": "admin"},
                    rules=[policy_rule("deny")],
                )
            ],
        ),
        sidecar_for(2, security=NO_MTLS),
        sidecar_for(3, security={**NO_MTLS, "authorization": {"policy": "allow-all"}}),
        sidecar_for(4, security={**NO_MTLS, "authorization": {"policy": "deny-all"}}),
    ]
    traffic = [
        traffic_policy(name="web-to-orders", source="web", destination="orders"),
        traffic_policy(
            name="no-wallet-ledger",
            source="plane:wallet",
            destination="ledger",
            priority=10,
            rules=[traffic_rule("deny")],
        ),
    ]
    security = [
        security_policy(
            name="web-no-admin",
            source="web",
            destination="orders",
            rules=[security_rule("deny", match={"path": "/admin/*"})],
        ),
        security_policy(
            name="admin-may-admin",
            source="admin",
            destination="orders",
            priority=200,
            rules=[security_rule("allow", match={"path": "/admin/*"})],
        ),
        security_policy(
            name="batch-not-payments",
            source="batch",
            destination="payments",
            rules=[security_rule("deny")],
        ),
        security_policy(
            name="wallet-ui-reads-ledger",
            source="wallet-ui",
            destination="ledger",
            priority=50,
            rules=[security_rule("allow")],
        ),
        security_policy(
            name="admin-opens-vault",
            source="admin",
            destination="vault",
            rules=[security_rule("allow")],
        ),
    ]
    return mesh(registrations, sidecars, traffic, security)


CASES = [
    # service, caller, path, status, why
    ("orders", "web", "/", 200, "allowed by a traffic policy"),
    ("orders", "web", "/admin/users", 403, "deny beats allow at equal priority (100)"),
    ("orders", "admin", "/admin/users", 200, "allow at 200 decides before the deny at 150"),
    ("orders", "admin", "/", 403, "the sidecar's auth deny at 150 is the first match"),
    ("orders", "batch", "/", 403, "rbac: an allow rule targets orders, so no match is a deny"),
    ("orders", None, "/", 403, "no caller header and no match: the rbac fallback denies"),
    ("payments", "web", "/", 200, "rbac: no allow rule targets payments, so the fallback allows"),
    ("payments", "batch", "/", 403, "denied by a security policy"),
    ("payments", "wallet-ui", "/", 403, "plane isolation: wallet may not call chain"),
    ("ledger", "wallet-ui", "/", 200, "an explicit allow (50) beats the plane-wide deny (10)"),
    ("ledger", "wallet-core", "/", 403, "the plane-wide deny matches"),
    ("ledger", "web", "/", 200, "allow-all fallback"),
    ("vault", "admin", "/", 200, "an explicit allow before the deny-all fallback"),
    ("vault", "web", "/", 403, "deny-all fallback"),
]


@pytest.fixture(scope="module")
def ports():
    return {name: free_port() for name in ("orders", "payments", "ledger", "vault")}


@pytest.fixture(scope="module")
def envoy(tmp_path_factory, ports):
    from tests.unit.translators.conftest import make_mesh

    state = rules_mesh(make_mesh)
    folder = tmp_path_factory.mktemp("rbac")
    with local_app() as app_port:
        listeners, routes, clusters = [], {}, {}
        for name, port in ports.items():
            _, plane = SERVICES[name]
            node = Node(id=name, service=name, plane=plane, app_port=app_port, inbound_port=port)
            listener = inbound.inbound_listener(state, node)
            listener.name = f"inbound-{name}"
            listeners.append(listener)
            routes[listener.name] = [inbound.inbound_route_configuration(state, node)]
            clusters.update({c.name: c for c in inbound.local_clusters(state, node)})
        bootstrap = static_bootstrap(listeners, [], list(clusters.values()), routes_for=routes)
        with running_envoy(bootstrap, folder, ports["vault"]):
            yield


@pytest.mark.parametrize(("service", "caller", "path", "status", "why"), CASES)
def test_the_first_matching_rule_decides(envoy, ports, service, caller, path, status, why):
    # What the caller's outbound sidecar sets: its name and its plane.
    headers = (
        {"x-lucid-source": caller, "x-lucid-source-plane": SERVICES[caller][1]} if caller else {}
    )

    got, _ = request(ports[service], path, headers)

    assert got == status, why
