"""Interned resources: each distinct serialized resource exists once, shared by every node.

A mesh of N sidecars sends most resources to many of them (every sidecar of a service gets
the same routes; every caller of a destination the same cluster). So a resource is
serialized once, deterministically, and interned by the hash of its bytes: two nodes whose
translators produced equal messages share one `Entry`, and so does the next translation if
nothing changed. The entry's version is a short sha256 of those bytes, so equal input gives
equal versions on every replica and after a restart.

An entry also carries its wire encodings, computed once: the `Any` as a `resources` field
of a state-of-the-world `DiscoveryResponse`, and (lazily) as a delta `Resource`. Building
a response is then a matter of joining bytes (`wire.py`), whatever the number of streams.

Entries are held weakly by the intern table: when no snapshot or stream refers to one, it
goes away. Messages handed to the cache are treated as immutable from then on.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterable, Mapping

from google.protobuf.any_pb2 import Any as AnyProto
from google.protobuf.message import Message

from lucid.xds.resources import TypeUrl, Version

VERSION_LENGTH = 16  # hex digits of sha256, as `lucid render` shows versions
_RESOURCES_FIELD = 2  # `resources` in both DiscoveryResponse and DeltaDiscoveryResponse
_ONE_BYTE = tuple(bytes((n,)) for n in range(0x80))


def varint(value: int) -> bytes:
    if value < 0x80:  # tags, short names and nonces: one byte
        return _ONE_BYTE[value]
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def length_delimited(field: int, payload: bytes) -> bytes:
    """One protobuf field of wire type 2 (bytes, string or message)."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def digest(parts: Iterable[tuple[str, str]]) -> Version:
    """A short hash over (name, version) pairs: the version of a set of resources."""
    h = hashlib.sha256()
    for name, version in parts:
        h.update(name.encode())
        h.update(b"\0")
        h.update(version.encode())
        h.update(b"\n")
    return Version(h.hexdigest()[:VERSION_LENGTH])


class Entry:
    """One serialized resource: type, name, version and its ready-made wire encodings."""

    __slots__ = ("__weakref__", "_delta", "name", "sotw_field", "type_url", "value", "version")

    def __init__(self, type_url: TypeUrl, name: str, value: bytes, version: Version) -> None:
        self.type_url = type_url
        self.name = name
        self.value = value  # the message's deterministic serialization
        self.version = version
        self.sotw_field = length_delimited(_RESOURCES_FIELD, self.any_bytes())
        self._delta: bytes | None = None

    def any_bytes(self) -> bytes:
        """The `Any` wrapping this resource, serialized (type_url = 1, value = 2), as
        protobuf would write it, without building the message."""
        head = length_delimited(1, self.type_url.encode())
        return head + length_delimited(2, self.value) if self.value else head

    def as_any(self) -> AnyProto:
        return AnyProto(type_url=self.type_url, value=self.value)

    @property
    def delta_field(self) -> bytes:
        """This entry as a `resources` field of a DeltaDiscoveryResponse (a `Resource`)."""
        if self._delta is None:
            # Resource: version = 1, resource (Any) = 2, name = 3.
            resource = (
                length_delimited(1, self.version.encode())
                + length_delimited(2, self.any_bytes())
                + length_delimited(3, self.name.encode())
            )
            self._delta = length_delimited(_RESOURCES_FIELD, resource)
        return self._delta

    def __repr__(self) -> str:
        return f"Entry({self.type_url.rsplit('.', 1)[-1]} {self.name!r} {self.version})"


class Interner:
    """The table of live entries, keyed by type URL and the hash of the bytes.

    `batch()` opens one round of interning (one translation): within it, and for the
    round before it, a message object already seen is not serialized again, so a cluster
    shared by a thousand nodes costs one serialization. Thread-safe: a pipeline may build
    snapshots in a worker thread while a new stream interns on the event loop.
    """

    def __init__(self) -> None:
        self._table: weakref.WeakValueDictionary[tuple[str, bytes], Entry] = (
            weakref.WeakValueDictionary()
        )
        self._lock = threading.Lock()
        self._previous: dict[int, tuple[Message, Entry]] = {}

    def __len__(self) -> int:
        return len(self._table)

    def batch(self, *, adds: bool = False) -> Batch:
        """A round of interning. What it sees replaces what the next round may reuse,
        or, with `adds` (a node translated between rounds), is added to it."""
        return Batch(self, adds=adds)

    def intern(self, type_url: TypeUrl, name: str, value: bytes) -> Entry:
        full = hashlib.sha256(value).digest()
        key = (type_url, full)
        with self._lock:
            found = self._table.get(key)
            if found is None or found.name != name:
                found = Entry(type_url, name, value, Version(full.hex()[:VERSION_LENGTH]))
                self._table[key] = found
            return found

    def _finish(self, seen: dict[int, tuple[Message, Entry]], *, adds: bool) -> None:
        with self._lock:
            self._previous = {**self._previous, **seen} if adds else seen


class Batch:
    """One round of interning; remembers message objects (by identity) it has seen."""

    def __init__(self, interner: Interner, *, adds: bool = False) -> None:
        self._interner = interner
        self._adds = adds
        self._previous = interner._previous
        self._seen: dict[int, tuple[Message, Entry]] = {}
        self._closed = False

    def entry(self, type_url: TypeUrl, name: str, message: Message) -> Entry:
        key = id(message)
        found = self._seen.get(key) or self._previous.get(key)
        # The tuple keeps the message alive, so its id cannot be reused while remembered.
        if found is not None and found[0] is message and found[1].name == name:
            entry = found[1]
            if entry.type_url == type_url:
                self._seen[key] = found
                return entry
        value = message.SerializeToString(deterministic=True)
        entry = self._interner.intern(type_url, name, value)
        self._seen[key] = (message, entry)
        return entry

    def entries(self, type_url: TypeUrl, messages: Mapping[str, Message]) -> dict[str, Entry]:
        return {name: self.entry(type_url, name, m) for name, m in sorted(messages.items())}

    def close(self) -> None:
        """End the round: its messages are what the next round may reuse."""
        if not self._closed:
            self._closed = True
            self._interner._finish(self._seen, adds=self._adds)

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
