"""Per-node snapshots: what one node should have, by type, as shared interned views.

A `TypeView` is the set of entries of one type a node should have, with one version for
the whole set (a hash of the names and entry versions). Views are interned like entries:
the hundred sidecars of one service that receive the same clusters hold one view, so a
snapshot costs a few references, and comparing two views is an identity check.

A `Snapshot` maps each type URL to a view. It carries an opaque `stamp` set by whoever
built it (the push pipeline puts the time it first saw the change there) so the server
can measure convergence without the cache knowing about clocks. `PENDING` stands for "not
computed yet" (a node that connects while a translation is running): streams hold their
answers until the real snapshot arrives, rather than sending an empty configuration.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from google.protobuf.message import Message

from lucid.xds.cache.entries import Batch, Entry, digest
from lucid.xds.resources import ADS_ORDER, TypeUrl, Version

_NO_ENTRIES: Mapping[str, Entry] = MappingProxyType({})


class TypeView:
    """The entries of one type a node should have, by name (sorted), and their version."""

    __slots__ = ("__weakref__", "entries", "type_url", "version")

    def __init__(self, type_url: TypeUrl, entries: Mapping[str, Entry], version: Version) -> None:
        self.type_url = type_url
        self.entries = entries
        self.version = version

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"TypeView({self.type_url.rsplit('.', 1)[-1]}, {len(self.entries)}, {self.version})"


def view_version(entries: Mapping[str, Entry]) -> Version:
    return digest((name, entry.version) for name, entry in entries.items())


EMPTY_VERSION: Version = view_version({})


def empty_view(type_url: TypeUrl) -> TypeView:
    return TypeView(type_url, _NO_ENTRIES, EMPTY_VERSION)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one node should have: a view per type URL, plus the builder's stamp."""

    views: Mapping[TypeUrl, TypeView]
    stamp: float | None = field(default=None, compare=False)
    ready: bool = True

    def view(self, type_url: TypeUrl) -> TypeView:
        found = self.views.get(type_url)
        return found if found is not None else empty_view(type_url)

    def versions(self) -> dict[TypeUrl, Version]:
        return {t: v.version for t, v in self.views.items()}


EMPTY_SNAPSHOT = Snapshot(MappingProxyType({t: empty_view(t) for t in ADS_ORDER}))
PENDING = Snapshot(EMPTY_SNAPSHOT.views, ready=False)


def changed_types(old: Snapshot | None, new: Snapshot) -> frozenset[TypeUrl]:
    """Type URLs whose view differs between two snapshots (every type of `new` if there
    was no ready one before)."""
    if old is None or not old.ready:
        return frozenset(new.views)
    types = set(old.views) | set(new.views)
    return frozenset(t for t in types if old.view(t).version != new.view(t).version)


class ViewTable:
    """Interned views: equal sets of entries of one type share one `TypeView`."""

    def __init__(self) -> None:
        self._table: weakref.WeakValueDictionary[tuple[str, str], TypeView] = (
            weakref.WeakValueDictionary()
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._table)

    def view(self, type_url: TypeUrl, entries: dict[str, Entry]) -> TypeView:
        version = view_version(entries)
        with self._lock:
            found = self._table.get((type_url, version))
            if found is None:
                found = TypeView(type_url, MappingProxyType(entries), version)
                self._table[(type_url, version)] = found
            return found


class SnapshotBuilder:
    """Turns translator output (type URL → name → message) into interned snapshots."""

    def __init__(self, views: ViewTable, batch: Batch) -> None:
        self._views = views
        self._batch = batch
        # Within one round, a mapping object given for several nodes is built once.
        self._by_mapping: dict[int, tuple[Mapping[str, Message], TypeView]] = {}

    def snapshot(
        self, resources: Mapping[TypeUrl, Mapping[str, Message]], *, stamp: float | None = None
    ) -> Snapshot:
        views: dict[TypeUrl, TypeView] = {}
        for type_url in ADS_ORDER:
            messages = resources.get(type_url)
            views[type_url] = (
                empty_view(type_url) if not messages else self._view(type_url, messages)
            )
        for type_url, messages in resources.items():
            if type_url not in views:
                views[type_url] = self._view(type_url, messages)
        return Snapshot(MappingProxyType(views), stamp)

    def _view(self, type_url: TypeUrl, messages: Mapping[str, Message]) -> TypeView:
        known = self._by_mapping.get(id(messages))
        if known is not None and known[0] is messages and known[1].type_url == type_url:
            return known[1]
        view = self._views.view(type_url, self._batch.entries(type_url, messages))
        self._by_mapping[id(messages)] = (messages, view)
        return view
