"""`SnapshotCache`: the snapshot each connected node should have, and who to wake.

The cache keeps a snapshot only for nodes that some stream watches. When the first stream
of a node arrives, the cache asks its `resolver` (the push pipeline, which translates that
node against the current state) for a snapshot; a resolver that cannot answer yet returns
None and the node stays `PENDING` until the pipeline publishes it. Later the pipeline
`publish`es new snapshots for every watched node and the cache wakes the watchers of
exactly those nodes whose views changed, telling them which types. Nodes whose snapshot
did not change are not woken at all. Everything here runs on the event loop, except
`builder()`, which a worker thread may use to intern a new round of snapshots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from lucid.translators.node import Node
from lucid.xds.cache.entries import Interner
from lucid.xds.cache.protocols import Wake
from lucid.xds.cache.snapshot import (
    EMPTY_SNAPSHOT,
    PENDING,
    Snapshot,
    SnapshotBuilder,
    ViewTable,
    changed_types,
)
from lucid.xds.resources import TypeUrl

log = logging.getLogger(__name__)

Resolver = Callable[[Node], Snapshot | None]


class NodeWatch:
    """A stream's watch on one node (see `ConfigWatcher`)."""

    def __init__(self, cache: SnapshotCache, node: Node, wake: Wake) -> None:
        self._cache = cache
        self.node = node
        self.wake = wake
        self.cancelled = False

    @property
    def snapshot(self) -> Snapshot:
        return self._cache.snapshot(self.node) or EMPTY_SNAPSHOT

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._cache._unwatch(self)


class SnapshotCache:
    """Implements `ConfigWatcher` and `ConfigFetcher` over interned snapshots."""

    def __init__(self, resolver: Resolver | None = None) -> None:
        self.resolver = resolver
        self.interner = Interner()
        self.views = ViewTable()
        self._snapshots: dict[Node, Snapshot] = {}
        self._watches: dict[Node, list[NodeWatch]] = {}

    # -- building -------------------------------------------------------------------------

    @contextmanager
    def builder(self, *, adds: bool = False) -> Iterator[SnapshotBuilder]:
        """One round of snapshot building; message objects are serialized once per round.
        With `adds` (nodes translated between rounds), the message objects it serializes
        are remembered beside the last round's rather than instead of them."""
        with self.interner.batch(adds=adds) as batch:
            yield SnapshotBuilder(self.views, batch)

    # -- ConfigWatcher ----------------------------------------------------------------------

    def watch(self, node: Node, wake: Wake) -> NodeWatch:
        handle = NodeWatch(self, node, wake)
        if node not in self._snapshots:
            if self.resolver is None:
                self._snapshots[node] = EMPTY_SNAPSHOT
            else:
                self._snapshots[node] = self.resolver(node) or PENDING
        self._watches.setdefault(node, []).append(handle)
        return handle

    def _unwatch(self, handle: NodeWatch) -> None:
        watches = self._watches.get(handle.node, [])
        if handle in watches:
            watches.remove(handle)
        if not watches:
            self._watches.pop(handle.node, None)
            self._snapshots.pop(handle.node, None)

    # -- ConfigFetcher ----------------------------------------------------------------------

    def snapshot(self, node: Node) -> Snapshot | None:
        return self._snapshots.get(node)

    def nodes(self) -> tuple[Node, ...]:
        """Every node some stream watches."""
        return tuple(self._watches)

    def pending(self) -> tuple[Node, ...]:
        """Watched nodes still waiting for their first snapshot."""
        return tuple(n for n, s in self._snapshots.items() if not s.ready)

    def watch_count(self) -> int:
        return sum(len(w) for w in self._watches.values())

    # -- publishing -------------------------------------------------------------------------

    def publish(self, snapshots: Mapping[Node, Snapshot]) -> int:
        """Install new snapshots and wake the watchers of nodes that changed; how many nodes.

        Snapshots of nodes nobody watches (any more) are dropped.
        """
        woken = 0
        # Nodes of one shape go from one shared snapshot to another: compare each pair once.
        compared: dict[tuple[int, int], frozenset[TypeUrl]] = {}
        for node, snapshot in snapshots.items():
            watches = self._watches.get(node)
            if not watches:
                continue
            old = self._snapshots.get(node)
            self._snapshots[node] = snapshot
            pair = (id(old), id(snapshot))  # both alive in this loop: ids are not reused
            changed = compared.get(pair)
            if changed is None:
                changed = compared[pair] = changed_types(old, snapshot)
            if not changed:
                continue
            woken += 1
            for handle in tuple(watches):
                try:
                    handle.wake(snapshot, changed)
                except Exception:  # one broken stream must not stop the others' pushes
                    log.exception("waking a stream of node %s failed", node.id)
        return woken
