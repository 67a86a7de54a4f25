"""The cache serializes each distinct resource once and shares it: equal messages from any
node or any round are one `Entry`, equal sets one `TypeView`; versions are short sha256
hashes of the bytes, as `lucid render` shows them; unused entries are let go."""

from __future__ import annotations

import gc

from lucid.render import resource_version
from lucid.xds.cache import SnapshotCache
from lucid.xds.resources import CLUSTER, ENDPOINT
from tests.unit.xds.conftest import cluster, resources


def test_equal_messages_from_different_nodes_share_one_entry_and_one_view() -> None:
    cache = SnapshotCache()
    with cache.builder() as builder:
        first = builder.snapshot(resources("a", "b"))
        second = builder.snapshot(resources("a", "b"))
    assert first.view(CLUSTER) is second.view(CLUSTER)
    assert first.view(CLUSTER).entries["a"] is second.view(CLUSTER).entries["a"]
    assert len(cache.interner) == 4  # two clusters, two load assignments


def test_a_later_round_reuses_unchanged_entries_and_versions_follow_the_bytes() -> None:
    cache = SnapshotCache()
    with cache.builder() as builder:
        before = builder.snapshot(resources("a", "b"))
    with cache.builder() as builder:
        after = builder.snapshot({CLUSTER: {"a": cluster("a"), "b": cluster("b", timeout=2)}})
    old, new = before.view(CLUSTER).entries, after.view(CLUSTER).entries
    assert new["a"] is old["a"]
    assert new["b"] is not old["b"]
    assert new["b"].version == resource_version(cluster("b", timeout=2))
    assert after.view(CLUSTER).version != before.view(CLUSTER).version
    assert after.view(ENDPOINT).entries == {}


def test_entries_nobody_uses_any_more_are_released() -> None:
    cache = SnapshotCache()
    with cache.builder() as builder:
        snapshot = builder.snapshot(resources("a", "b"))
    with cache.builder():
        pass  # a new round forgets the previous round's message objects
    assert len(cache.interner) == 4
    del snapshot, builder
    gc.collect()
    assert len(cache.interner) == 0


def test_a_node_built_between_rounds_adds_to_what_the_next_round_reuses() -> None:
    # Reuse is by message object: an object seen is not serialized again, so a message
    # changed in place after it was seen keeps its old entry (translators never do that;
    # here it shows which objects the round remembered).
    cache = SnapshotCache()
    a, b = cluster("a"), cluster("b")
    with cache.builder() as builder:
        round_a = builder.snapshot({CLUSTER: {"a": a}}).view(CLUSTER).entries["a"]
    with cache.builder(adds=True) as builder:  # a node connecting between rounds
        node_b = builder.snapshot({CLUSTER: {"b": b}}).view(CLUSTER).entries["b"]
    a.connect_timeout.seconds = b.connect_timeout.seconds = 9
    with cache.builder() as builder:
        both = builder.snapshot({CLUSTER: {"a": a, "b": b}}).view(CLUSTER).entries
    assert both["a"] is round_a and both["b"] is node_b  # neither serialized again
    with cache.builder() as builder:  # that round replaced, not added: still both
        again = builder.snapshot({CLUSTER: {"a": a}}).view(CLUSTER).entries
    assert again["a"] is round_a
    with cache.builder() as builder:
        last = builder.snapshot({CLUSTER: {"b": b}}).view(CLUSTER).entries
    assert last["b"] is not node_b  # the round before saw only "a": "b" is serialized anew
    assert last["b"].version == resource_version(b)


def test_prepared_resources_are_serialized_before_any_node_needs_them() -> None:
    cache = SnapshotCache()
    a = cluster("a")
    with cache.builder() as builder:
        builder.prepare([(CLUSTER, "a", a)])
    assert len(cache.interner) == 1
    with cache.builder(adds=True) as builder:
        entry = builder.snapshot({CLUSTER: {"a": a}}).view(CLUSTER).entries["a"]
    assert entry.version == resource_version(a)
