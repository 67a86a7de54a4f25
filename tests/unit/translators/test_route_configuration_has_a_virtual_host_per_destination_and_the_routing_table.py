"""`routes-out`: one virtual host per destination, named by every form an app
may use, then the sidecar's own routing table under `*`; `x-lucid-source` on every request;
a gateway also gets `routes-edge` with that table alone."""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2

from lucid.translators.node import SOURCE_HEADER, SOURCE_PLANE_HEADER
from lucid.translators.routes import route_configurations
from tests.builders import instance, route, routing, sidecar_for
from tests.unit.translators.source_side import node, outbound_routes, vhost


def gateway_mesh(mesh, **routing_fields):
    registrations = [
        instance("gateway", 1),
        instance("ledger", 2),
        instance("ledger-canary", 3),
        instance("sessions", 4),
    ]
    return mesh(registrations, [sidecar_for(1, routing=routing(**routing_fields))])


def test_the_configuration_is_named_after_the_service(mesh):
    config = outbound_routes(gateway_mesh(mesh, defaultRoute="ledger"), "gateway")
    assert config.name == "routes-out"


def test_each_destination_has_a_virtual_host_with_its_mesh_names_and_any_port(mesh):
    config = outbound_routes(gateway_mesh(mesh, defaultRoute="ledger"), "gateway")
    assert [v.name for v in config.virtual_hosts] == [
        "gateway",
        "ledger",
        "ledger-canary",
        "sessions",
        "*",
    ]
    assert list(vhost(config, "ledger").domains) == [
        "ledger",
        "ledger:*",
        "ledger.lucid.onion",
        "ledger.lucid.onion:*",
    ]
    (only,) = vhost(config, "ledger").routes
    assert only.match.prefix == "/"
    assert only.route.cluster == "outbound|ledger"


def test_every_request_carries_the_source_overwriting_what_the_app_sent(mesh):
    config = outbound_routes(gateway_mesh(mesh, defaultRoute="ledger"), "gateway")
    name, plane = config.request_headers_to_add
    assert (name.header.key, name.header.value) == (SOURCE_HEADER, "gateway")
    assert (plane.header.key, plane.header.value) == (SOURCE_PLANE_HEADER, "chain")
    overwrite = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    assert name.append_action == plane.append_action == overwrite


def test_the_catch_all_holds_the_routes_in_order_then_the_default_route(mesh):
    state = gateway_mesh(
        mesh,
        defaultRoute="ledger",
        routes=[
            route(match={"path": "/sessions/*"}, destination="sessions"),
            route(match={"path": "/*", "method": "DELETE"}, destination="ledger-canary"),
        ],
    )
    table = vhost(outbound_routes(state, "gateway"), "*")
    assert list(table.domains) == ["*"]
    assert [(r.match.prefix, r.route.cluster) for r in table.routes] == [
        ("/sessions/", "outbound|sessions"),
        ("/", "outbound|ledger-canary"),
        ("/", "outbound|ledger"),
    ]
    assert table.routes[1].match.headers[0].name == ":method"
    assert not table.routes[2].match.headers


def test_routes_sharing_a_match_form_a_weighted_split(mesh):
    state = gateway_mesh(
        mesh,
        defaultRoute="ledger",
        routes=[
            route(match={"path": "/blocks/*"}, destination="ledger", weight=80),
            route(match={"path": "/blocks/*"}, destination="ledger-canary", weight=20),
        ],
    )
    split, default = vhost(outbound_routes(state, "gateway"), "*").routes
    assert split.match.prefix == "/blocks/"
    assert [(c.name, c.weight.value) for c in split.route.weighted_clusters.clusters] == [
        ("outbound|ledger", 80),
        ("outbound|ledger-canary", 20),
    ]
    assert default.route.cluster == "outbound|ledger"


def test_a_route_to_an_unregistered_service_answers_503(mesh):
    state = gateway_mesh(
        mesh,
        defaultRoute="nowhere",
        routes=[route(match={"path": "/gone/*"}, destination="gone-service")],
    )
    gone, default = vhost(outbound_routes(state, "gateway"), "*").routes
    assert gone.direct_response.status == 503
    assert "gone-service" in gone.direct_response.body.inline_string
    assert default.match.prefix == "/"
    assert default.direct_response.status == 503


def test_a_service_without_a_sidecar_has_no_catch_all(mesh):
    state = gateway_mesh(mesh, defaultRoute="ledger")
    names = [v.name for v in outbound_routes(state, "ledger").virtual_hosts]
    assert "*" not in names


def test_a_gateway_also_gets_the_edge_routes_with_its_table_under_star(mesh):
    state = gateway_mesh(
        mesh,
        defaultRoute="ledger",
        routes=[route(match={"path": "/sessions/*"}, destination="sessions")],
    )
    outbound, edge = route_configurations(state, node("gateway", edge_port=10000))
    assert edge.name == "routes-edge"
    (only,) = edge.virtual_hosts
    assert list(only.domains) == ["*"]
    assert list(only.routes) == list(vhost(outbound, "*").routes)
    assert edge.request_headers_to_add[0].header.value == "gateway"


def test_a_plain_sidecar_gets_no_edge_routes(mesh):
    state = gateway_mesh(mesh, defaultRoute="ledger")
    assert len(route_configurations(state, node("gateway"))) == 1
