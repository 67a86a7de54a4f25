"""Responses are joined from pre-encoded entries, and parse as the generated messages."""

from __future__ import annotations

from envoy.config.cluster.v3 import cluster_pb2
from envoy.service.discovery.v3 import discovery_pb2

from lucid.xds.cache import SnapshotCache
from lucid.xds.cache.wire import delta_response, sotw_response
from lucid.xds.resources import CLUSTER
from tests.unit.xds.conftest import cluster


def entries() -> list:  # type: ignore[type-arg]
    with SnapshotCache().builder() as builder:
        snapshot = builder.snapshot({CLUSTER: {"a": cluster("a"), "b" * 300: cluster("b" * 300)}})
    return list(snapshot.view(CLUSTER).entries.values())


def test_a_sotw_response_parses_with_every_resource_and_field() -> None:
    found = entries()
    raw = sotw_response(
        type_url=CLUSTER, version="v1", nonce="7", entries=found, control_plane=b"\n\x04test"
    )
    response = discovery_pb2.DiscoveryResponse.FromString(raw)
    assert (response.version_info, response.nonce, response.type_url) == ("v1", "7", CLUSTER)
    assert response.control_plane.identifier == "test"
    names = [cluster_pb2.Cluster.FromString(r.value).name for r in response.resources]
    assert names == ["a", "b" * 300]
    assert all(r.type_url == CLUSTER for r in response.resources)


def test_a_delta_response_carries_names_versions_and_removals() -> None:
    found = entries()
    raw = delta_response(
        type_url=CLUSTER,
        system_version="s",
        nonce="8",
        entries=found,
        removed=["gone"],
        control_plane=b"",
    )
    response = discovery_pb2.DeltaDiscoveryResponse.FromString(raw)
    assert [(r.name, r.version) for r in response.resources] == [(e.name, e.version) for e in found]
    assert list(response.removed_resources) == ["gone"]
    assert (response.system_version_info, response.nonce) == ("s", "8")
