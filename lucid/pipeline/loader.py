"""The translators' inputs, read from the store and kept up to date from its change feed.

The first load lists every registration, sidecar configuration and policy; after that
only the documents a change names are read again. A re-read document that validates to
a model equal to the one already held keeps the old object (a heartbeat rewrites its
registration without changing what translation reads), because incremental translation
tells changed inputs from unchanged ones by identity. Registration health comes from
the stored `status`, a field the control plane owns (`lucid.kinds`).

Documents in the store were validated when written; one that no longer validates (an
older schema, a hand edit) is skipped with a warning rather than stopping every push.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from lucid.kinds import BY_NAME, Kind
from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.store import Change, Record, Store
from lucid.translators.state import STATUSES, Status

log = logging.getLogger(__name__)

REGISTRY, SIDECARS, POLICIES = "service_registry", "sidecar_configurations", "service_mesh_policies"
COLLECTIONS: frozenset[str] = frozenset({REGISTRY, SIDECARS, POLICIES})
_POLICY_KINDS = {"traffic": BY_NAME["TrafficPolicy"], "security": BY_NAME["SecurityPolicy"]}


@dataclass(frozen=True)
class Inputs:
    registrations: tuple[ServiceRegistration, ...]
    sidecars: tuple[SidecarConfiguration, ...]
    traffic: tuple[TrafficPolicy, ...]
    security: tuple[SecurityPolicy, ...]
    statuses: dict[str, Status]


def relevant(changes: Iterable[Change]) -> list[Change]:
    """The changes that can alter what proxies receive (not events or messages)."""
    return [c for c in changes if c.collection in COLLECTIONS]


class Loader:
    """Holds the current models by (collection, key); not thread-safe (one pipeline)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._models: dict[tuple[str, str], BaseModel] = {}
        self._statuses: dict[str, Status] = {}

    def load_all(self) -> int:
        """Read everything; the store revision the read started from."""
        revision = self.store.revision()
        self._models.clear()
        self._statuses.clear()
        for collection in sorted(COLLECTIONS):
            for record in self.store.list(collection=collection):
                self._put(record)
        return revision

    def apply(self, changes: Iterable[Change]) -> None:
        """Re-read what the changes name (each key once, in its latest form)."""
        for collection, key in sorted({(c.collection, c.key) for c in relevant(changes)}):
            record = self.store.get(collection=collection, key=key)
            if record is None:
                self._models.pop((collection, key), None)
                if collection == REGISTRY:
                    self._statuses.pop(key, None)
            else:
                self._put(record)

    def inputs(self) -> Inputs:
        by_type: dict[type[BaseModel], list[Any]] = {}
        for (_, _key), model in sorted(self._models.items()):
            by_type.setdefault(type(model), []).append(model)
        return Inputs(
            registrations=tuple(by_type.get(ServiceRegistration, [])),
            sidecars=tuple(by_type.get(SidecarConfiguration, [])),
            traffic=tuple(by_type.get(TrafficPolicy, [])),
            security=tuple(by_type.get(SecurityPolicy, [])),
            statuses=dict(self._statuses),
        )

    def _kind(self, record: Record) -> Kind | None:
        if record.collection == REGISTRY:
            return BY_NAME["ServiceRegistration"]
        if record.collection == SIDECARS:
            return BY_NAME["SidecarConfiguration"]
        return _POLICY_KINDS.get(str(record.document.get("type")))

    def _put(self, record: Record) -> None:
        where = (record.collection, record.key)
        kind = self._kind(record)
        if kind is None:
            log.warning("%s/%s has no known policy type; skipped", *where)
            self._models.pop(where, None)
            return
        try:
            model = kind.from_document(record.document)
        except ValidationError as exc:
            log.warning("%s/%s no longer validates; skipped: %s", *where, exc)
            self._models.pop(where, None)
            return
        old = self._models.get(where)
        if old is None or old != model:
            self._models[where] = model
        if record.collection == REGISTRY:
            status = record.document.get("status")
            self._statuses[record.key] = status if status in STATUSES else "unknown"
