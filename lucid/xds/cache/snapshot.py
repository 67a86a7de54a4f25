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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from google.protobuf.message import Message

from lucid.xds.cache.entries import Batch, Entry, digest
from lucid.xds.cache.wire import sotw_prefix
from lucid.xds.resources import ADS_ORDER, TypeUrl, Version

_NO_ENTRIES: Mapping[str, Entry] = MappingProxyType({})
MAX_SUBSETS = 64  # subsets of names remembered per view


class TypeView:
    """The entries of one type a node should have, by name (sorted), and their version.

    A view also keeps, once asked, what every stream sending it would otherwise build
    again: its state-of-the-world response without the per-stream nonce (`sotw_prefix`),
    and the views of the subsets of names that streams ask for (`subset`), so a thousand
    sidecars asking for the same endpoints share one subset, one version and one body.
    """

    __slots__ = ("__weakref__", "_sotw", "_subsets", "entries", "type_url", "version")

    def __init__(self, type_url: TypeUrl, entries: Mapping[str, Entry], version: Version) -> None:
        self.type_url = type_url
        self.entries = entries
        self.version = version
        self._sotw: bytes | None = None
        self._subsets: dict[frozenset[str], TypeView] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def sotw_prefix(self) -> bytes:
        """A DiscoveryResponse carrying this view, every field but the nonce and the
        control plane, which `sotw_response` appends."""
        if self._sotw is None:
            self._sotw = sotw_prefix(self.type_url, self.version, self.entries.values())
        return self._sotw

    def subset(self, names: frozenset[str]) -> TypeView:
        """The view of the entries named in `names` (names without an entry are left
        out); this very view when it has no other entries."""
        entries = self.entries
        if len(names) >= len(entries) and all(name in names for name in entries):
            return self
        known = self._subsets
        found = known.get(names) if known is not None else None
        if found is None:
            if len(names) < len(entries):
                picked = {n: entries[n] for n in sorted(names) if n in entries}
            else:
                picked = {n: e for n, e in entries.items() if n in names}
            found = TypeView(self.type_url, MappingProxyType(picked), view_version(picked))
            if known is None:
                known = self._subsets = {}
            if len(known) < MAX_SUBSETS:  # a client cycling through names cannot grow it
                known[names] = found
        return found

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

    def prepare(self, parts: Iterable[tuple[TypeUrl, str, Message]]) -> None:
        """Serialize resources no node of this round may need but a node arriving before
        the next one likely will (each destination's cluster and load assignment)."""
        entry = self._batch.entry
        for type_url, name, message in parts:
            entry(type_url, name, message)

    def _view(self, type_url: TypeUrl, messages: Mapping[str, Message]) -> TypeView:
        known = self._by_mapping.get(id(messages))
        if known is not None and known[0] is messages and known[1].type_url == type_url:
            return known[1]
        view = self._views.view(type_url, self._batch.entries(type_url, messages))
        self._by_mapping[id(messages)] = (messages, view)
        return view
