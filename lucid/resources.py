"""Reading and writing the kinds operators manage, on top of any Store.

This is where a validated model becomes a stored document: `apply` turns a batch of models
into one atomic store write (all of them or none), `create` refuses to replace, and store
errors become LUCID errors with the code of the kind involved. The REST API is a thin
layer over this module, so the rules hold however a write arrives.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from lucid.errors import Conflict, ErrorCode, NotFound, Unavailable
from lucid.kinds import BY_NAME, Kind
from lucid.store import DuplicateKey, MissingKey, Record, Store, StoreUnavailable, Write

Clock = Callable[[], datetime]
T = TypeVar("T")


@dataclass(frozen=True)
class Applied:
    kind: str
    name: str
    action: str  # "created", "configured" or "unchanged"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Resources:
    def __init__(self, store: Store, *, clock: Clock = _utcnow) -> None:
        self._store = store
        self._clock = clock

    # reads

    def get(self, kind: Kind, name: str) -> Record:
        record = self._call(kind, lambda: self._store.get(collection=kind.collection, key=name))
        if record is None or not self._is_kind(kind, record.document):
            raise NotFound(kind.not_found_code, kind.name, name)
        return record

    def list(self, kind: Kind, *, where: dict[str, Any] | None = None) -> list[Record]:
        filters = dict(where or {})
        if kind.policy_type is not None:
            filters["type"] = kind.policy_type
        return self._call(kind, lambda: self._store.list(collection=kind.collection, where=filters))

    def model(self, kind: Kind, name: str) -> BaseModel:
        return kind.from_document(self.get(kind, name).document)

    # writes

    def apply(self, models: Sequence[BaseModel]) -> builtins.list[Applied]:
        """Create or replace every model in one atomic write."""
        writes: builtins.list[Write] = []
        results: builtins.list[Applied] = []
        seen: set[tuple[str, str]] = set()
        now = self._clock()
        for model in models:
            kind = BY_NAME[type(model).__name__]
            key = kind.key_of(model)
            if (kind.collection, key) in seen:
                raise Conflict(kind.conflict_code, kind.name, key, "appears twice in one apply")
            seen.add((kind.collection, key))
            existing = self._existing(kind, key)
            document = kind.to_document(model, now=now, existing=existing)
            if existing is not None and _same(kind, existing, document):
                results.append(Applied(kind.name, key, "unchanged"))
                continue
            writes.append(Write("put", kind.collection, key, document))
            action = "created" if existing is None else "configured"
            results.append(Applied(kind.name, key, action))
        if writes:
            self._call(None, lambda: self._store.write(writes=writes))
        return results

    def create(self, model: BaseModel) -> Record:
        """Store a new model; Conflict (e.g. LUCID_ERR_1003) if the name is taken."""
        kind = BY_NAME[type(model).__name__]
        key = kind.key_of(model)
        document = kind.to_document(model, now=self._clock(), existing=None)
        self._call(
            kind,
            lambda: self._store.write(writes=[Write("create", kind.collection, key, document)]),
        )
        return self.get(kind, key)

    def replace(self, model: BaseModel) -> Record:
        """Replace an existing model; NotFound if there is none."""
        kind = BY_NAME[type(model).__name__]
        key = kind.key_of(model)
        existing = self.get(kind, key).document
        document = kind.to_document(model, now=self._clock(), existing=existing)
        self._call(
            kind,
            lambda: self._store.write(writes=[Write("update", kind.collection, key, document)]),
        )
        return self.get(kind, key)

    def delete(self, pairs: Sequence[tuple[Kind, str]]) -> None:
        """Delete every (kind, name) in one atomic write; NotFound if any is missing."""
        for kind, name in pairs:
            self.get(kind, name)
        writes = [Write("delete", kind.collection, name) for kind, name in pairs]
        self._call(None, lambda: self._store.write(writes=writes))

    # helpers

    def _existing(self, kind: Kind, key: str) -> dict[str, Any] | None:
        record = self._call(kind, lambda: self._store.get(collection=kind.collection, key=key))
        if record is None:
            return None
        if not self._is_kind(kind, record.document):
            other = record.document.get("type")
            raise Conflict(
                kind.conflict_code, kind.name, key, f"the name is taken by a {other} policy"
            )
        return record.document

    @staticmethod
    def _is_kind(kind: Kind, document: dict[str, Any]) -> bool:
        return kind.policy_type is None or document.get("type") == kind.policy_type

    @staticmethod
    def _call(kind: Kind | None, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DuplicateKey as exc:
            owner = kind or _kind_of_collection(exc.collection)
            raise Conflict(owner.conflict_code, owner.name, exc.key, "already exists") from exc
        except MissingKey as exc:
            owner = kind or _kind_of_collection(exc.collection)
            raise NotFound(owner.not_found_code, owner.name, exc.key) from exc
        except StoreUnavailable as exc:
            code = (
                ErrorCode.SERVICE_REGISTRATION_FAILED
                if kind is not None and kind.collection == "service_registry"
                else ErrorCode.MESH_CONTROLLER_UNAVAILABLE
            )
            raise Unavailable(code, f"store unavailable: {exc}") from exc


def _kind_of_collection(collection: str) -> Kind:
    return next(k for k in BY_NAME.values() if k.collection == collection)


def _same(kind: Kind, existing: dict[str, Any], document: dict[str, Any]) -> bool:
    volatile = {"updatedAt", "lastHeartbeat"}
    return {k: v for k, v in existing.items() if k not in volatile} == {
        k: v for k, v in document.items() if k not in volatile
    }
