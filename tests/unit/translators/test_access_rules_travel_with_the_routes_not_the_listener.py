"""What RBAC and local_ratelimit enforce comes with the route configuration, so a policy
change never updates the listener: Envoy drains a listener's connections when its filters
change, and an HTTP/1.1 caller sending a request on one as it closes gets a 503.

The listener's RBAC filters deny everything on their own; `routes-in` (and a gateway's
`routes-edge`) tell each filter what to enforce, or turn it off. A real Envoy shows that a
route configuration without that per-filter configuration fails closed.
"""

from __future__ import annotations

from envoy.config.rbac.v3 import rbac_pb2
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2 as rbac_filter_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)

from lucid.translators import inbound, routes
from lucid.translators.access import access
from lucid.translators.node import EDGE_ROUTES, Node
from lucid.translators.rbac import RBAC_ALLOW_FILTER, RBAC_DENY_FILTER, Caller, rbac_configs
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

ORDERS = Node(id="orders-1", service="orders", plane="chain", app_port=8080, inbound_port=15006)
GATEWAY = Node(
    id="gateway-1",
    service="gateway",
    plane="chain",
    app_port=8080,
    inbound_port=15006,
    edge_port=15443,
)
RBAC_FILTERS = (RBAC_DENY_FILTER, RBAC_ALLOW_FILTER)


def state_with(mesh, *, security=(), traffic=(), policies=()):
    registrations = [instance("orders", 1), instance("web", 2), instance("gateway", 3)]
    sidecars = [sidecar_for(1, policies=list(policies))]
    return mesh(registrations, sidecars, list(traffic), list(security))


DENY_WEB = security_policy(
    name="no-web", source="web", destination="orders", rules=[security_rule("deny")]
)
ALLOW_WEB = traffic_policy(
    name="web-reads-orders", source="web", destination="orders", rules=[traffic_rule("allow")]
)
OPEN_GATEWAY = security_policy(
    name="gateway-admin",
    source="*",
    destination="gateway",
    rules=[security_rule("deny", match={"path": "/admin/*"})],
)
RATE_LIMIT = sidecar_policy(
    "rate-limit", rules=[policy_rule("rate-limit", parameters={"requests": 5, "unit": "second"})]
)


def serialized(message) -> bytes:
    return message.SerializeToString(deterministic=True)


def manager_of(listener) -> hcm_pb2.HttpConnectionManager:
    manager = hcm_pb2.HttpConnectionManager()
    listener.filter_chains[0].filters[-1].typed_config.Unpack(manager)
    return manager


def per_route(host) -> dict[str, rbac_filter_pb2.RBACPerRoute]:
    found = {}
    for name in RBAC_FILTERS:
        config = rbac_filter_pb2.RBACPerRoute()
        host.typed_per_filter_config[name].Unpack(config)
        found[name] = config
    return found


def test_policy_changes_move_routes_in_and_leave_the_listener_alone(mesh):
    states = [
        state_with(mesh),
        state_with(mesh, security=[DENY_WEB]),
        state_with(mesh, security=[DENY_WEB], traffic=[ALLOW_WEB]),
        state_with(mesh, security=[DENY_WEB], traffic=[ALLOW_WEB], policies=[RATE_LIMIT]),
    ]

    listeners = {serialized(inbound.inbound_listener(s, ORDERS)) for s in states}
    route_configs = {serialized(inbound.inbound_route_configuration(s, ORDERS)) for s in states}

    assert len(listeners) == 1
    assert len(route_configs) == len(states)


def test_the_listener_rbac_filters_deny_everything_on_their_own(mesh):
    manager = manager_of(inbound.inbound_listener(state_with(mesh), ORDERS))

    filters = {f.name: f for f in manager.http_filters}
    for name in RBAC_FILTERS:
        config = rbac_filter_pb2.RBAC()
        filters[name].typed_config.Unpack(config)
        assert config.HasField("rules"), name
        assert (config.rules.action, len(config.rules.policies)) == (rbac_pb2.RBAC.ALLOW, 0)


def test_routes_in_tells_each_rbac_filter_what_to_enforce_or_turns_it_off(mesh):
    state = state_with(mesh, security=[DENY_WEB])
    caller = Caller(mode="header", ports=frozenset({8080, 15006}), planes=frozenset({"chain"}))
    expected = rbac_configs(state, access(state, "orders"), caller)
    assert set(expected) == {RBAC_DENY_FILTER}  # the fallback allows: no ALLOW filter

    [host] = inbound.inbound_route_configuration(state, ORDERS).virtual_hosts
    found = per_route(host)

    assert found[RBAC_DENY_FILTER].rbac == expected[RBAC_DENY_FILTER]
    assert not found[RBAC_ALLOW_FILTER].HasField("rbac")  # off for every route


def test_a_gateways_edge_routes_carry_its_rules_for_external_callers(mesh):
    state = state_with(mesh, security=[OPEN_GATEWAY])
    caller = Caller(mode="external", ports=frozenset({15443}))
    expected = rbac_configs(state, access(state, "gateway", inbound=False), caller)

    [edge] = [r for r in routes.route_configurations(state, GATEWAY) if r.name == EDGE_ROUTES]
    found = per_route(edge.virtual_hosts[0])

    assert found[RBAC_DENY_FILTER].rbac == expected[RBAC_DENY_FILTER]
    assert list(expected[RBAC_DENY_FILTER].rules.policies)  # the /admin/* deny is there


def test_a_real_envoy_denies_on_a_route_configuration_without_the_rbac_settings(mesh, tmp_path):
    state = state_with(mesh)
    with local_app() as app_port:
        ports = {"with": free_port(), "without": free_port()}
        listeners, routes_for = [], {}
        for label, port in ports.items():
            node = Node(
                id="orders-1", service="orders", plane="chain", app_port=app_port, inbound_port=port
            )
            listener = inbound.inbound_listener(state, node)
            listener.name = f"inbound-{label}"
            listeners.append(listener)
            if label == "with":
                routes_for[listener.name] = [inbound.inbound_route_configuration(state, node)]
        clusters = inbound.local_clusters(state, node)
        # Without its route configuration a listener gets a stand-in: one route, answering
        # 200 itself, with no per-filter configuration.
        bootstrap = static_bootstrap(listeners, [], clusters, routes_for=routes_for)
        with running_envoy(bootstrap, tmp_path, ports["without"]):
            assert request(ports["with"], "/", {"x-lucid-source": "web"})[0] == 200
            assert request(ports["without"], "/", {"x-lucid-source": "web"})[0] == 403


def test_a_gateways_edge_routes_end_with_not_found_so_rbac_has_a_route_to_read(mesh):
    # No sidecar configuration for the gateway: no routing table, no edge routes at all.
    state = state_with(mesh, security=[OPEN_GATEWAY])

    [edge] = [r for r in routes.route_configurations(state, GATEWAY) if r.name == EDGE_ROUTES]

    [last] = edge.virtual_hosts[0].routes
    assert (last.match.prefix, last.direct_response.status) == ("/", 404)
