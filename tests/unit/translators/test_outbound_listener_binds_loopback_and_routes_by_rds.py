"""`lucid-outbound`: 127.0.0.1:outboundPort, one HTTP connection manager with RDS
`routes-out` over ADS; the stateful-session filter only when a destination is
sticky; the sidecar's idle timeout on downstream connections."""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2

from lucid.translators.hcm import ROUTER_FILTER
from lucid.translators.node import OUTBOUND_LISTENER
from lucid.translators.outbound import outbound_listener
from lucid.translators.route_policies import STATEFUL_SESSION_FILTER
from tests.builders import instance, load_balancing, routing, sidecar_for
from tests.unit.translators.source_side import node, unpack_hcm


def state_with(mesh, sticky=False, **gateway_routing):
    registrations = [instance("gateway", 1), instance("ledger", 2)]
    balancing = load_balancing(stickySession={"enabled": True, "cookie": "s"}) if sticky else None
    ledger = routing(defaultRoute="gateway")
    if balancing:
        ledger["loadBalancing"] = balancing
    sidecars = [
        sidecar_for(1, routing=routing(defaultRoute="ledger", **gateway_routing)),
        sidecar_for(2, routing=ledger),
    ]
    return mesh(registrations, sidecars)


def manager_of(listener):
    (chain,) = listener.filter_chains
    (network_filter,) = chain.filters
    return unpack_hcm(network_filter.typed_config)


def test_the_listener_binds_loopback_on_the_outbound_port(mesh):
    listener = outbound_listener(state_with(mesh), node("gateway", outbound_port=15123))
    assert listener.name == OUTBOUND_LISTENER
    address = listener.address.socket_address
    assert (address.address, address.port_value) == ("127.0.0.1", 15123)
    assert listener.traffic_direction == base_pb2.OUTBOUND


def test_routes_come_from_rds_over_ads(mesh):
    manager = manager_of(outbound_listener(state_with(mesh), node("gateway")))
    assert manager.rds.route_config_name == "routes-out"
    assert manager.rds.config_source.HasField("ads")
    assert [f.name for f in manager.http_filters] == [ROUTER_FILTER]


def test_a_sticky_destination_adds_the_stateful_session_filter_before_the_router(mesh):
    manager = manager_of(outbound_listener(state_with(mesh, sticky=True), node("gateway")))
    assert [f.name for f in manager.http_filters] == [STATEFUL_SESSION_FILTER, ROUTER_FILTER]


def test_the_written_idle_timeout_closes_idle_app_connections(mesh):
    state = state_with(mesh, timeout={"idle": 45000})
    manager = manager_of(outbound_listener(state, node("gateway")))
    assert manager.common_http_protocol_options.idle_timeout.ToMilliseconds() == 45000
    plain = manager_of(outbound_listener(state_with(mesh), node("gateway")))
    assert not plain.HasField("common_http_protocol_options")


def test_access_logs_follow_the_source_sidecar(mesh):
    manager = manager_of(outbound_listener(state_with(mesh), node("gateway")))
    assert manager.access_log
