"""Publishing wakes exactly the watchers of nodes whose views changed, with the changed
types; unchanged nodes are not woken; unwatched nodes are forgotten; a resolver that
cannot answer yet leaves a node pending."""

from __future__ import annotations

from lucid.translators.node import Node
from lucid.xds.cache import EMPTY_SNAPSHOT, PENDING, Snapshot, SnapshotCache
from lucid.xds.resources import CLUSTER, ENDPOINT, SECRET, TypeUrl
from tests.unit.xds.conftest import resources

A, B = Node(id="a-1", service="a"), Node(id="b-1", service="b")


def test_only_nodes_whose_views_changed_are_woken_with_the_changed_types() -> None:
    cache = SnapshotCache()
    woken: list[tuple[str, frozenset[TypeUrl]]] = []
    cache.watch(A, lambda s, types: woken.append(("a", types)))
    cache.watch(B, lambda s, types: woken.append(("b", types)))
    with cache.builder() as builder:
        assert (
            cache.publish(
                {A: builder.snapshot(resources("x")), B: builder.snapshot(resources("x"))}
            )
            == 2
        )
    woken.clear()
    with cache.builder() as builder:
        published = {
            A: builder.snapshot(resources("x", secrets=("s",))),
            B: builder.snapshot(resources("x")),
        }
    assert cache.publish(published) == 1
    assert woken == [("a", frozenset({SECRET}))]


def test_a_node_nobody_watches_is_forgotten() -> None:
    cache = SnapshotCache()
    watch = cache.watch(A, lambda s, t: None)
    with cache.builder() as builder:
        cache.publish({A: builder.snapshot(resources("x")), B: builder.snapshot(resources("y"))})
    assert cache.nodes() == (A,)
    assert cache.snapshot(B) is None
    watch.cancel()
    assert cache.nodes() == () and cache.snapshot(A) is None


def test_a_new_node_gets_the_resolvers_snapshot_or_waits_pending() -> None:
    with SnapshotCache().builder() as builder:
        ready = builder.snapshot(resources("x"))
    answers: dict[Node, Snapshot | None] = {A: ready, B: None}
    cache = SnapshotCache(resolver=answers.__getitem__)
    assert cache.watch(A, lambda s, t: None).snapshot is ready
    pending = cache.watch(B, lambda s, t: None)
    assert pending.snapshot is PENDING and cache.pending() == (B,)
    woken: list[frozenset[TypeUrl]] = []
    cache.watch(B, lambda s, types: woken.append(types))
    cache.publish({B: EMPTY_SNAPSHOT})
    assert woken and CLUSTER in woken[0] and ENDPOINT in woken[0]
    assert cache.pending() == ()
