"""The narrow interfaces the xDS server and the debug views depend on.

As in go-control-plane (`ConfigWatcher` for the servers, `ConfigFetcher` for one-off
reads), a stream only needs to watch one node's snapshot and be told which types changed;
a status page only needs to read snapshots. Neither needs to know how snapshots are made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from lucid.translators.node import Node
from lucid.xds.cache.snapshot import Snapshot
from lucid.xds.resources import TypeUrl

# Called on the event loop with the node's new snapshot and the types whose view changed.
Wake = Callable[[Snapshot, frozenset[TypeUrl]], None]


class Watch(Protocol):
    """One stream's interest in one node; cancel it when the stream ends."""

    @property
    def snapshot(self) -> Snapshot: ...

    def cancel(self) -> None: ...


class ConfigWatcher(Protocol):
    def watch(self, node: Node, wake: Wake) -> Watch:
        """Start watching `node`; its current snapshot is available at once."""
        ...


class ConfigFetcher(Protocol):
    def snapshot(self, node: Node) -> Snapshot | None:
        """The snapshot `node` should have now, if the node is known."""
        ...

    def nodes(self) -> tuple[Node, ...]: ...
