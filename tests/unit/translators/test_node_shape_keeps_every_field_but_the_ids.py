"""Instances of a service share one view because their nodes differ only in ids: the
shape used as the view's key must keep every other field of `Node`."""

from dataclasses import fields, replace

from lucid.translators.mesh import _shape
from lucid.translators.node import Node


def test_node_shape_keeps_every_field_but_the_ids():
    node = Node(
        id="a-1",
        service="a",
        service_id="00000000-0000-4000-8000-000000000001",
        plane="data",
        cluster="primary",
        app_port=8080,
        inbound_port=15006,
        outbound_port=15001,
        edge_port=8443,
        proxyless=True,
    )
    assert _shape(node) == replace(node, id="", service_id=None)
    for field in fields(Node):
        if field.name in ("id", "service_id"):
            continue
        other = replace(node, **{field.name: _different(getattr(node, field.name))})
        assert _shape(other) != _shape(node), field.name


def _different(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return f"{value}-other"
