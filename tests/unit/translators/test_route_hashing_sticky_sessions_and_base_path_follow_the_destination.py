"""What a route takes from the destination it is addressed to: the consistent-hash key,
sticky sessions through the stateful-session filter, and the endpoint's base path."""

from __future__ import annotations

import pytest
from envoy.extensions.filters.http.stateful_session.v3 import stateful_session_pb2
from envoy.extensions.http.stateful_session.cookie.v3 import cookie_pb2
from google.protobuf import json_format

from lucid.translators.route_policies import STATEFUL_SESSION_FILTER
from tests.builders import endpoint, instance, load_balancing, route, routing, sidecar_for
from tests.unit.translators.source_side import outbound_routes, routes_to, vhost


def state_with(mesh, balancing=None, path=None, gateway_routes=None):
    ledger = endpoint(host="10.0.0.2", path=path) if path else endpoint(host="10.0.0.2")
    registrations = [instance("gateway", 1), instance("ledger", 2, endpoint=ledger)]
    destination = routing(defaultRoute="gateway")
    if balancing is not None:
        destination["loadBalancing"] = balancing
    sidecars = [
        sidecar_for(1, routing=routing(defaultRoute="ledger", routes=gateway_routes or [])),
        sidecar_for(2, routing=destination),
    ]
    return mesh(registrations, sidecars)


@pytest.mark.parametrize(
    ("hash_on", "expected"),
    [
        (None, {"connection_properties": {"source_ip": True}}),
        ("header:X-User", {"header": {"header_name": "x-user"}}),
        ("cookie:sid", {"cookie": {"name": "sid"}}),
        ("query:user", {"query_parameter": {"name": "user"}}),
    ],
)
def test_consistent_hash_routes_hash_on_the_configured_key(mesh, hash_on, expected):
    balancing = load_balancing(algorithm="consistent-hash")
    if hash_on is not None:
        balancing["hashOn"] = hash_on
    (only,) = routes_to(state_with(mesh, balancing), "gateway", "ledger")
    (policy,) = only.route.hash_policy
    assert json_format.MessageToDict(policy, preserving_proto_field_name=True) == expected


def test_other_algorithms_have_no_hash_policy(mesh):
    (only,) = routes_to(
        state_with(mesh, load_balancing(algorithm="least-connections")), "gateway", "ledger"
    )
    assert not only.route.hash_policy


def sticky(mesh, ttl=3600):
    balancing = load_balancing(
        stickySession={"enabled": True, "cookie": "lucid-session", "ttl": ttl}
    )
    return state_with(mesh, balancing)


def test_a_sticky_destination_enables_the_stateful_session_on_its_routes(mesh):
    (only,) = routes_to(sticky(mesh), "gateway", "ledger")
    per_route = stateful_session_pb2.StatefulSessionPerRoute()
    assert only.typed_per_filter_config[STATEFUL_SESSION_FILTER].Unpack(per_route)
    state = cookie_pb2.CookieBasedSessionState()
    assert per_route.stateful_session.session_state.typed_config.Unpack(state)
    assert (state.cookie.name, state.cookie.path) == ("lucid-session", "/")
    assert state.cookie.ttl.seconds == 3600


def test_a_sticky_session_without_ttl_is_a_session_cookie(mesh):
    (only,) = routes_to(sticky(mesh, ttl=0), "gateway", "ledger")
    per_route = stateful_session_pb2.StatefulSessionPerRoute()
    only.typed_per_filter_config[STATEFUL_SESSION_FILTER].Unpack(per_route)
    state = cookie_pb2.CookieBasedSessionState()
    per_route.stateful_session.session_state.typed_config.Unpack(state)
    assert not state.cookie.HasField("ttl")


def test_a_disabled_sticky_session_changes_nothing(mesh):
    balancing = load_balancing(stickySession={"enabled": False})
    (only,) = routes_to(state_with(mesh, balancing), "gateway", "ledger")
    assert not only.typed_per_filter_config


def test_a_split_enables_stickiness_per_sticky_member(mesh):
    balancing = load_balancing(stickySession={"enabled": True, "cookie": "s"})
    split_routes = [
        route(match={"path": "/b/*"}, destination="ledger", weight=50),
        route(match={"path": "/b/*"}, destination="gateway", weight=50),
    ]
    state = state_with(mesh, balancing, gateway_routes=split_routes)
    split = vhost(outbound_routes(state, "gateway"), "*").routes[0]
    ledger, gateway = split.route.weighted_clusters.clusters
    assert STATEFUL_SESSION_FILTER in ledger.typed_per_filter_config
    assert not gateway.typed_per_filter_config


def test_a_base_path_is_put_in_front_of_paths_not_already_under_it(mesh):
    under, elsewhere = routes_to(state_with(mesh, path="/api/v1"), "gateway", "ledger")
    assert under.match.safe_regex.regex == "/api/v1(?:/.*)?"
    assert not under.route.prefix_rewrite
    assert elsewhere.match.prefix == "/"
    assert elsewhere.route.prefix_rewrite == "/api/v1/"


def test_a_route_already_under_the_base_path_is_not_rewritten(mesh):
    state = state_with(
        mesh,
        path="/api/v1",
        gateway_routes=[
            route(match={"path": "/api/v1/blocks/*"}, destination="ledger"),
            route(match={"path": "/other/*"}, destination="ledger"),
        ],
    )
    blocks, other, *_ = vhost(outbound_routes(state, "gateway"), "*").routes
    assert blocks.match.prefix == "/api/v1/blocks/"
    assert not blocks.route.prefix_rewrite
    assert other.match.prefix == "/other/"
    assert other.route.prefix_rewrite == "/api/v1/other/"


def test_a_root_base_path_rewrites_nothing(mesh):
    (only,) = routes_to(state_with(mesh, path="/"), "gateway", "ledger")
    assert not only.route.prefix_rewrite
