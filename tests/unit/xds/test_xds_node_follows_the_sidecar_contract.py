"""An xDS `Node` becomes the translators' `Node` as the sidecar contract says; anything
else is refused with every broken field listed."""

from __future__ import annotations

from typing import Any

import pytest
from envoy.config.core.v3 import base_pb2
from google.protobuf import struct_pb2

from lucid.translators.node import DEFAULT_OUTBOUND_PORT, Node
from lucid.xds.nodes import InvalidNode, node_from_proto


def proto(node_id: str = "gw-1", service: str = "api-gateway", **metadata: Any) -> base_pb2.Node:
    meta = struct_pb2.Struct()
    meta.update(metadata)
    return base_pb2.Node(id=node_id, cluster=service, metadata=meta)


def test_a_sidecar_node_carries_every_contract_field() -> None:
    node = node_from_proto(
        proto(
            serviceId="550e8400-e29b-41d4-a716-446655440000",
            plane="ops",
            cluster="api-gateway",
            appPort=8081,
            inboundPort="8080",
            outboundPort=15001.0,
            edgePort=10000,
        )
    )
    assert node == Node(
        id="gw-1",
        service="api-gateway",
        service_id="550e8400-e29b-41d4-a716-446655440000",
        plane="ops",
        cluster="api-gateway",
        app_port=8081,
        inbound_port=8080,
        outbound_port=15001,
        edge_port=10000,
    )


def test_a_proxyless_client_needs_only_id_and_service() -> None:
    node = node_from_proto(proto("grpc-1", "payments", proxyless=True))
    assert node.proxyless and node.app_port is None
    assert node.outbound_port == DEFAULT_OUTBOUND_PORT


@pytest.mark.parametrize(
    ("node", "paths"),
    [
        (None, ["node"]),
        (base_pb2.Node(), ["node"]),
        (proto("", ""), ["node.id", "node.cluster"]),
        (
            proto(appPort=80.5, inboundPort=70000),
            ["node.metadata.appPort", "node.metadata.inboundPort"],
        ),
        (proto(plane="moon", cluster="nowhere"), ["node.metadata.plane", "node.metadata.cluster"]),
        (
            proto(proxyless="maybe", serviceId=["x"]),
            ["node.metadata.serviceId", "node.metadata.proxyless"],
        ),
        (proto(edgePort=True), ["node.metadata.edgePort"]),
    ],
)
def test_garbage_is_refused_with_each_broken_field(
    node: base_pb2.Node | None, paths: list[str]
) -> None:
    with pytest.raises(InvalidNode) as caught:
        node_from_proto(node)
    assert [e.path for e in caught.value.errors] == paths
    assert all(e.code.value == "LUCID_ERR_1101" for e in caught.value.errors)
