"""Proxyless gRPC clients (`xds:///<service>`): one api listener per reachable
destination, named exactly after it, with its routes inline and only what gRPC
implements (typed router, gRPC retry codes, max stream duration, header or channel hash;
no redirect, mirror, rewrite, sticky cookie, access log or tracing)."""

from __future__ import annotations

from google.protobuf import json_format

from lucid.translators.hcm import ROUTER_FILTER
from lucid.translators.outbound import proxyless_listeners
from tests.builders import (
    endpoint,
    instance,
    load_balancing,
    monitoring_config,
    retry_config,
    routing,
    sidecar_for,
    traffic_policy,
    traffic_rule,
)
from tests.unit.translators.source_side import node, unpack_hcm

ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"


def grpc(number):
    return endpoint(host=f"10.0.0.{number}", protocol="grpc", path="/base")


def state_with(mesh, balancing=None, traffic=(), dependencies=None):
    metadata = {"dependencies": dependencies} if dependencies else {}
    registrations = [
        instance("client", 1, endpoint=grpc(1), metadata=metadata),
        instance("ledger", 2, endpoint=grpc(2)),
        instance("audit", 3, endpoint=grpc(3)),
    ]
    ledger = routing(defaultRoute="client")
    if balancing is not None:
        ledger["loadBalancing"] = balancing
    client = routing(
        defaultRoute="ledger",
        retry=retry_config(retryableErrors=["unavailable", "5xx", "connection-error"]),
        timeout={"request": 8000, "idle": 60000},
    )
    sidecars = [
        sidecar_for(1, routing=client, monitoring=monitoring_config()),
        sidecar_for(2, routing=ledger),
    ]
    return mesh(registrations, sidecars, traffic=list(traffic))


def listeners_by_name(state):
    return {
        listener.name: listener
        for listener in proxyless_listeners(state, node("client", proxyless=True))
    }


def manager(state, name="ledger"):
    return unpack_hcm(listeners_by_name(state)[name].api_listener.api_listener)


def test_one_api_listener_per_destination_named_after_it(mesh):
    found = listeners_by_name(state_with(mesh, dependencies=["ledger", "audit"]))
    assert list(found) == ["audit", "ledger"]
    for listener in found.values():
        assert listener.HasField("api_listener")
        assert not listener.HasField("address")


def test_the_route_configuration_is_inline_with_one_host_named_like_the_target(mesh):
    table = manager(state_with(mesh)).route_config
    (host,) = table.virtual_hosts
    assert list(host.domains) == ["ledger"]
    (only,) = host.routes
    assert only.route.cluster == "outbound|ledger"
    assert not table.request_headers_to_add


def test_the_router_is_typed_and_nothing_grpc_ignores_is_sent(mesh):
    found = manager(state_with(mesh))
    assert [(f.name, f.typed_config.type_url) for f in found.http_filters] == [
        (ROUTER_FILTER, ROUTER)
    ]
    assert not found.access_log
    assert not found.HasField("tracing")


def test_retries_keep_grpc_codes_and_timeouts_become_max_stream_duration(mesh):
    (only,) = manager(state_with(mesh)).route_config.virtual_hosts[0].routes
    action = only.route
    assert action.retry_policy.retry_on == "unavailable"
    assert not action.retry_policy.retry_host_predicate
    assert action.max_stream_duration.max_stream_duration.ToMilliseconds() == 8000
    assert not action.HasField("timeout")
    assert not action.HasField("idle_timeout")
    assert not action.prefix_rewrite


def test_consistent_hash_uses_a_header_or_the_channel(mesh):
    by_header = state_with(mesh, load_balancing(algorithm="consistent-hash", hashOn="header:x-u"))
    (only,) = manager(by_header).route_config.virtual_hosts[0].routes
    assert only.route.hash_policy[0].header.header_name == "x-u"
    by_source = state_with(mesh, load_balancing(algorithm="consistent-hash"))
    (only,) = manager(by_source).route_config.virtual_hosts[0].routes
    assert only.route.hash_policy[0].filter_state.key == "io.grpc.channel_id"


def test_sticky_cookies_mirrors_and_redirects_are_left_out(mesh):
    sticky = load_balancing(stickySession={"enabled": True, "cookie": "s"})
    rules = [
        traffic_rule("redirect", match={"path": "/old/*"}, parameters={"target": "/new"}),
        traffic_rule("mirror", parameters={"destination": "audit"}),
        traffic_rule(
            "weighted-split",
            match={"path": "/pkg.Svc/*"},
            parameters={
                "destinations": [
                    {"destination": "ledger", "weight": 50},
                    {"destination": "audit", "weight": 50},
                ]
            },
        ),
    ]
    policy = traffic_policy(source="client", destination="ledger", rules=rules)
    routes = manager(state_with(mesh, sticky, [policy])).route_config.virtual_hosts[0].routes
    assert [r.WhichOneof("action") for r in routes] == ["route", "route"]
    split, default = routes
    assert default.match.prefix == "/"
    assert split.match.prefix == "/pkg.Svc/"
    assert len(split.route.weighted_clusters.clusters) == 2
    for found in routes:
        assert not found.typed_per_filter_config
        assert not found.route.request_mirror_policies


def test_the_same_state_gives_the_same_bytes(mesh):
    first = [
        json_format.MessageToJson(listener)
        for listener in proxyless_listeners(state_with(mesh), node("client", proxyless=True))
    ]
    second = [
        json_format.MessageToJson(listener)
        for listener in proxyless_listeners(state_with(mesh), node("client", proxyless=True))
    ]
    assert first == second
