"""The Store protocol every backend implements, and the collections it holds.

The store knows documents, not models: a collection is a set of JSON documents, each with
one unique key field and a few indexed fields (the spec's Database Collections section).
Every write bumps one store-wide revision and records a Change, so the push pipeline can
follow the store (the change feed) without knowing which backend is underneath.

Backends raise DuplicateKey / MissingKey; the service layer maps them to the LUCID code of
the kind being written, because only it knows whether the document is a registration or
a policy.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Document = dict[str, Any]
WriteOp = Literal["put", "create", "update", "delete"]
ChangeOp = Literal["put", "delete"]


@dataclass(frozen=True)
class CollectionSpec:
    """A collection: its unique key field and its (non-unique) indexed fields."""

    name: str
    key: str
    indexes: tuple[str, ...]


# The spec's four collections, with the spec's indexes, plus two of ours: sidecar
# configurations and event subscriptions are spec models that the spec gives no collection.
COLLECTIONS: dict[str, CollectionSpec] = {
    spec.name: spec
    for spec in (
        CollectionSpec(
            "service_registry",
            "serviceId",
            ("serviceName", "cluster", "plane", "status", "lastHealthCheck"),
        ),
        CollectionSpec(
            "service_mesh_policies",
            "name",
            ("type", "source", "destination", "priority", "enabled"),
        ),
        CollectionSpec(
            "message_queue",
            "messageId",
            ("destination", "status", "priority", "createdAt", "ttl"),
        ),
        CollectionSpec("event_stream", "eventId", ("eventType", "source", "timestamp", "tags")),
        CollectionSpec("sidecar_configurations", "serviceId", ("lastUpdated",)),
        CollectionSpec("event_subscriptions", "subscriberId", ("deliveryMode",)),
    )
}


@dataclass(frozen=True)
class Write:
    """One write of an atomic batch.

    put: create or replace; create: fails with DuplicateKey if the key exists;
    update: fails with MissingKey if it does not; delete: fails with MissingKey if absent.
    """

    op: WriteOp
    collection: str
    key: str
    document: Document | None = None


@dataclass(frozen=True)
class Record:
    """A stored document with the revision of the write that last touched it."""

    collection: str
    key: str
    revision: int
    document: Document


@dataclass(frozen=True)
class Change:
    revision: int
    collection: str
    key: str
    op: ChangeOp


class StoreError(Exception):
    """Base of the store's own errors (mapped to LUCID codes by the caller)."""


class DuplicateKey(StoreError):
    def __init__(self, collection: str, key: str) -> None:
        super().__init__(f"{collection}: {key!r} already exists")
        self.collection = collection
        self.key = key


class MissingKey(StoreError):
    def __init__(self, collection: str, key: str) -> None:
        super().__init__(f"{collection}: {key!r} does not exist")
        self.collection = collection
        self.key = key


class StoreUnavailable(StoreError):
    """The backend did not answer (database down, file unwritable)."""


class Store(Protocol):
    """What the rest of Lucid Mesh needs from a store. Every argument is keyword-only."""

    def get(self, *, collection: str, key: str) -> Record | None: ...

    def list(
        self,
        *,
        collection: str,
        where: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Records whose indexed fields equal `where`'s values, ordered by key."""
        ...

    def write(self, *, writes: Sequence[Write]) -> int:
        """Apply every write or none; return the new store revision."""
        ...

    def revision(self) -> int: ...

    def changes(self, *, since: int, limit: int = 1000) -> builtins.list[Change]:
        """Changes with revision > since, oldest first."""
        ...

    def wait(self, *, since: int, timeout: float) -> int:
        """Block until the revision exceeds `since` or `timeout` seconds pass; return it."""
        ...

    def close(self) -> None: ...


def check_write(write: Write) -> None:
    """Reject writes no backend should accept (unknown collection, key mismatch)."""
    spec = COLLECTIONS.get(write.collection)
    if spec is None:
        raise ValueError(f"unknown collection {write.collection!r}")
    if write.op == "delete":
        return
    if write.document is None:
        raise ValueError(f"{write.op} of {write.collection}/{write.key} has no document")
    if write.document.get(spec.key) != write.key:
        raise ValueError(
            f"{write.collection}: document {spec.key}={write.document.get(spec.key)!r} "
            f"does not match key {write.key!r}"
        )


def check_where(collection: str, where: Mapping[str, Any] | None) -> CollectionSpec:
    spec = COLLECTIONS.get(collection)
    if spec is None:
        raise ValueError(f"unknown collection {collection!r}")
    for name in where or {}:
        if name != spec.key and name not in spec.indexes:
            raise ValueError(f"{collection}: {name!r} is not an indexed field")
    return spec
