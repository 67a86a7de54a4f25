"""The service registry's state and its operations, shared by the REST API and the checker.

The store holds what proxies must see (a registration, its `status`, the HealthStatus at
its last transition) and what must outlive a restart (the service token's hash). What
changes on every heartbeat or check (lease deadlines, consecutive counts, response times)
lives here in memory and is overlaid on reads, so a heartbeat or a passing check costs no
store write and wakes no xDS push; only a change of status does.

Operations that read and rewrite a registration document hold `_writes` (worker threads
only: the API's threadpool and `asyncio.to_thread`), so a health transition, an expiry and
a heartbeat never overwrite each other. In-memory maps have their own lock, never held
across I/O, so the event loop can touch them without blocking.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from lucid.errors import Conflict, ErrorCode, NotFound, Unavailable
from lucid.kinds import BY_NAME
from lucid.models import ServiceRegistration
from lucid.registry import events, tokens
from lucid.registry.health import CheckResult, HealthState, from_document, initial, record
from lucid.registry.health import to_document as health_document
from lucid.registry.leases import Leases
from lucid.resources import Resources
from lucid.store import DuplicateKey, MissingKey, Record, Store, StoreError, Write, WriteOp

log = logging.getLogger(__name__)

KIND = BY_NAME["ServiceRegistration"]
COLLECTION = KIND.collection
EXPIRED = "expired"
EXPIRY_RETRY = 1.0  # seconds before retrying an expiry the store refused
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Registry:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.leases = Leases(monotonic)
        self._clock = clock
        self._writes = threading.Lock()
        self._state = threading.Lock()
        self._health: dict[str, HealthState] = {}
        self._hashes: dict[str, str] = {}  # serviceId -> its token's hash
        self._owners: dict[str, str] = {}  # token hash -> serviceId
        self._stored: dict[str, str] = {}  # serviceId -> status as last stored

    # -- who is calling -------------------------------------------------------------------

    def owner_of(self, token: str) -> str | None:
        """The serviceId whose service token this is, if any."""
        with self._state:
            return self._owners.get(tokens.digest(token))

    # -- API operations (blocking: call from worker threads) ------------------------------

    def get(self, service_id: str) -> Record:
        record = self._call(lambda: self.store.get(collection=COLLECTION, key=service_id))
        if record is None:
            raise NotFound(KIND.not_found_code, KIND.name, service_id)
        return record

    def list(self, where: dict[str, Any]) -> list[Record]:
        return self._call(lambda: self.store.list(collection=COLLECTION, where=where))

    def register(self, model: ServiceRegistration) -> tuple[Record, str]:
        """Store a new registration with a lease; its service token is returned only here.

        An expired registration may be registered again (the instance came back with the
        same serviceId); any other existing one is LUCID_ERR_1003.
        """
        now = self._clock()
        if model.registrationTime is None:
            model = model.model_copy(update={"registrationTime": now})
        token, hashed = tokens.issue()
        key = model.serviceId
        with self._writes:
            existing = self._call(lambda: self.store.get(collection=COLLECTION, key=key))
            if existing is not None and existing.document.get("status") != EXPIRED:
                raise Conflict(KIND.conflict_code, KIND.name, key, "is already registered")
            document = KIND.to_document(model, now=now, existing=None)
            document["status"] = "unknown"
            document["lease"] = {"tokenHash": hashed, "grantedAt": events.stamp(now)}
            op: WriteOp = "create" if existing is None else "update"
            data = {"ttl": model.ttl, "endpoint": model.endpoint.model_dump(mode="json")}
            self._call(
                lambda: self.store.write(
                    writes=[
                        Write(op, COLLECTION, key, document),
                        events.event_write(events.REGISTERED, model, now, data),
                    ]
                )
            )
            stored = self.get(key)
        self._index(key, hashed)
        with self._state:
            self._health[key] = initial(now)
            self._stored[key] = "unknown"
        self.leases.grant(key, model.ttl, now)
        return stored, token

    def renew(self, service_id: str) -> Record:
        """A heartbeat: a full TTL from now. An expired registration comes back as unknown."""
        now = self._clock()
        with self._writes:  # an expiry in progress finishes first: never renew a dead lease
            if self.leases.renew(service_id, now) is not None:
                return self.get(service_id)
            stored = self.get(service_id)
            document = dict(stored.document)
            model = self._model(stored)
            if "lease" not in document or model is None:
                raise Conflict(
                    KIND.conflict_code,
                    KIND.name,
                    service_id,
                    "was not registered through POST /v1/services, so it has no lease",
                )
            if document.get("status") == EXPIRED:
                document.update(status="unknown", lastHeartbeat=events.stamp(now))
                document.pop("health", None)
                data = {"previousStatus": EXPIRED}
                self._call(
                    lambda: self.store.write(
                        writes=[
                            Write("update", COLLECTION, service_id, document),
                            events.event_write(events.REVIVED, model, now, data),
                        ]
                    )
                )
                with self._state:
                    self._health[service_id] = initial(now)
                    self._stored[service_id] = "unknown"
                stored = self.get(service_id)
            self.leases.grant(service_id, model.ttl, now)
        return stored

    def deregister(self, service_id: str) -> None:
        now = self._clock()
        with self._writes:
            stored = self.get(service_id)
            model = self._model(stored)
            writes = [Write("delete", COLLECTION, service_id)]
            if model is not None:
                writes.append(events.event_write(events.DEREGISTERED, model, now))
            self._call(lambda: self.store.write(writes=writes))
        self.forget(service_id)

    def replace(self, model: ServiceRegistration) -> str:
        """An operator's create-or-replace (lease, status and health are kept)."""
        with self._writes:
            (applied,) = Resources(self.store, clock=self._clock).apply([model])
        return applied.action

    # -- the checker and the expiry timer -------------------------------------------------

    def observe(
        self, service_id: str, result: CheckResult, model: ServiceRegistration
    ) -> tuple[HealthState, HealthState, bool]:
        """Fold one check into the live state (no I/O).

        Returns (before, after, whether the store must be written): the store is written
        when the new status differs from the stored one, so a write the store refused is
        retried after the next check rather than lost.
        """
        with self._state:
            before = self._health.get(service_id) or initial(result.checked_at)
            after = record(before, result, model.healthCheck)
            self._health[service_id] = after
            stale = self._stored.get(service_id) not in (after.status, EXPIRED)
        return before, after, stale

    def persist_health(self, states: Mapping[str, HealthState]) -> None:
        """Store status transitions and their `service.health-changed` events (blocking).

        One atomic batch for all of them: a burst of transitions (every instance turning
        healthy at start-up, an upstream shared by many failing) is one store write and
        one xDS push, not hundreds. A registration deleted or expired meanwhile is skipped.
        """
        now = self._clock()
        with self._writes:
            writes: builtins.list[Write] = []
            for service_id, state in states.items():
                writes.extend(self._transition(service_id, state, now))
            try:
                self.store.write(writes=writes)
            except MissingKey:  # deleted by a batch outside this lock: write one by one
                for service_id, state in states.items():
                    with contextlib.suppress(MissingKey):
                        self.store.write(writes=self._transition(service_id, state, now))
            with self._state:
                for service_id, state in states.items():
                    self._stored[service_id] = state.status

    def _transition(
        self, service_id: str, state: HealthState, now: datetime
    ) -> builtins.list[Write]:
        stored = self.store.get(collection=COLLECTION, key=service_id)
        model = self._model(stored) if stored is not None else None
        if stored is None or model is None or stored.document.get("status") == EXPIRED:
            return []
        document = dict(stored.document)
        before = document.get("status")
        health = health_document(state)
        document.update(status=state.status, health=health, lastHealthCheck=health["lastCheck"])
        writes = [Write("update", COLLECTION, service_id, document)]
        if before != state.status:
            data = {"from": before, "to": state.status, "health": health}
            writes.append(events.event_write(events.HEALTH_CHANGED, model, now, data))
        return writes

    def expire(self, service_id: str) -> bool:
        """Mark a registration whose lease is due as expired (blocking); True if it was."""
        now = self._clock()
        with self._writes:
            if not self.leases.is_due(service_id):
                return False  # renewed since the timer looked
            try:
                stored = self.store.get(collection=COLLECTION, key=service_id)
                model = self._model(stored) if stored is not None else None
                if stored is None or model is None or stored.document.get("status") == EXPIRED:
                    self.leases.drop(service_id)
                    return False
                lease = self.leases.get(service_id)
                document = {**stored.document, "status": EXPIRED}
                data = {
                    "ttl": model.ttl,
                    "lastHeartbeat": events.stamp(lease.renewed_at) if lease else None,
                    "previousStatus": stored.document.get("status"),
                }
                self.store.write(
                    writes=[
                        Write("update", COLLECTION, service_id, document),
                        events.event_write(events.EXPIRED, model, now, data),
                    ]
                )
            except MissingKey:
                self.leases.drop(service_id)
                return False
            except StoreError as exc:
                log.warning("cannot record the expiry of %s yet: %s", service_id, exc)
                self.leases.postpone(service_id, EXPIRY_RETRY)
                return False
            self.leases.drop(service_id)
            with self._state:
                self._stored[service_id] = EXPIRED
        log.info("registration %s (%s) expired", service_id, model.serviceName)
        return True

    # -- following the store --------------------------------------------------------------

    def adopt(self, service_id: str, stored: Record | None) -> ServiceRegistration | None:
        """Take in a registration as stored; returns it if it should be health-checked.

        Called at start-up (where every lease restarts from the recovery time) and for
        each change the store reports, whoever made it.
        """
        if stored is None:
            self.forget(service_id)
            return None
        model = self._model(stored)
        document = stored.document
        lease = document.get("lease")
        if isinstance(lease, dict) and isinstance(lease.get("tokenHash"), str):
            self._index(service_id, lease["tokenHash"])
        now = self._clock()
        with self._state:
            if service_id not in self._health:
                self._health[service_id] = from_document(document.get("health"), fallback=now)
            self._stored[service_id] = str(document.get("status"))
        if model is None or document.get("status") == EXPIRED or not isinstance(lease, dict):
            self.leases.drop(service_id)
            return None if model is None or document.get("status") == EXPIRED else model
        if self.leases.get(service_id) is None:
            self.leases.grant(service_id, model.ttl, now)
        else:
            self.leases.retime(service_id, model.ttl)
        return model

    def forget(self, service_id: str) -> None:
        self.leases.drop(service_id)
        with self._state:
            self._health.pop(service_id, None)
            self._stored.pop(service_id, None)
            hashed = self._hashes.pop(service_id, None)
            if hashed is not None:
                self._owners.pop(hashed, None)

    # -- live state, for reads (`lucid.registry.views`) ----------------------------------

    def live_health(self, service_id: str) -> HealthState | None:
        with self._state:
            return self._health.get(service_id)

    def now(self) -> datetime:
        return self._clock()

    # -- helpers --------------------------------------------------------------------------

    def _index(self, service_id: str, hashed: str) -> None:
        with self._state:
            previous = self._hashes.get(service_id)
            if previous is not None and previous != hashed:
                self._owners.pop(previous, None)
            self._hashes[service_id] = hashed
            self._owners[hashed] = service_id

    @staticmethod
    def _model(stored: Record) -> ServiceRegistration | None:
        try:
            model = KIND.from_document(stored.document)
        except ValidationError as exc:
            log.warning("stored registration %s is not valid: %s", stored.key, exc)
            return None
        assert isinstance(model, ServiceRegistration)
        return model

    @staticmethod
    def _call(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DuplicateKey as exc:
            raise Conflict(KIND.conflict_code, KIND.name, exc.key, "is already registered") from exc
        except MissingKey as exc:
            raise NotFound(KIND.not_found_code, KIND.name, exc.key) from exc
        except StoreError as exc:
            raise Unavailable(
                ErrorCode.SERVICE_REGISTRATION_FAILED, f"store unavailable: {exc}"
            ) from exc
