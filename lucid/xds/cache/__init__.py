"""The versioned resource cache: interned entries, per-node snapshots, watches.

No gRPC and no store in here (an import-linter contract says so): the cache knows
serialized resources, versions and who watches which node; the servers in
`lucid.xds.server` turn that into a protocol, and the push pipeline feeds it.
"""

from lucid.xds.cache.cache import NodeWatch, Resolver, SnapshotCache
from lucid.xds.cache.entries import Entry, Interner, digest
from lucid.xds.cache.protocols import ConfigFetcher, ConfigWatcher, Wake, Watch
from lucid.xds.cache.snapshot import (
    EMPTY_SNAPSHOT,
    EMPTY_VERSION,
    PENDING,
    Snapshot,
    SnapshotBuilder,
    TypeView,
    changed_types,
    empty_view,
    view_version,
)

__all__ = [
    "EMPTY_SNAPSHOT",
    "EMPTY_VERSION",
    "PENDING",
    "ConfigFetcher",
    "ConfigWatcher",
    "Entry",
    "Interner",
    "NodeWatch",
    "Resolver",
    "Snapshot",
    "SnapshotBuilder",
    "SnapshotCache",
    "TypeView",
    "Wake",
    "Watch",
    "changed_types",
    "digest",
    "empty_view",
    "view_version",
]
