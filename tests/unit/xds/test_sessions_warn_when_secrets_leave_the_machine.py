"""SDS over the plaintext xDS channel to a peer that is not on this machine is logged as
a loud warning, once per stream; loopback peers are served quietly."""

from __future__ import annotations

import logging

import pytest
from envoy.service.discovery.v3 import discovery_pb2

from lucid.xds.cache import SnapshotCache
from lucid.xds.resources import SECRET
from lucid.xds.server.options import XdsOptions
from lucid.xds.server.session import is_loopback_peer
from lucid.xds.server.sotw import SotwSession
from lucid.xds.server.status import ProxyRegistry
from tests.protocol.conftest import xds_node
from tests.unit.xds.conftest import resources


@pytest.mark.parametrize(
    ("peer", "local"),
    [
        ("ipv4:127.0.0.1:5000", True),
        ("ipv6:[::1]:5000", True),
        ("unix:/tmp/xds.sock", True),
        ("ipv4:10.1.2.3:5000", False),
        ("ipv6:[2001:db8::1]:5000", False),
    ],
)
def test_loopback_peers_are_recognised(peer: str, local: bool) -> None:
    assert is_loopback_peer(peer) is local


async def serve_secrets(peer: str) -> None:
    cache = SnapshotCache()
    session = SotwSession(watcher=cache, registry=ProxyRegistry(), options=XdsOptions(), peer=peer)
    request = discovery_pb2.DiscoveryRequest(type_url=SECRET, resource_names=["lucid-identity"])
    request.node.CopyFrom(xds_node())
    session.handle(request)
    with cache.builder() as builder:
        cache.publish({session.node: builder.snapshot(resources(secrets=("lucid-identity",)))})  # type: ignore[dict-item]
    assert len(session.drain()) == 1
    session.close()


async def test_secrets_to_a_remote_peer_are_a_loud_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        await serve_secrets("ipv4:10.1.2.3:5000")
    assert "SERVING SECRETS IN PLAINTEXT to ipv4:10.1.2.3:5000" in caplog.text


async def test_secrets_to_a_local_peer_are_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await serve_secrets("ipv4:127.0.0.1:5000")
    assert "PLAINTEXT" not in caplog.text
