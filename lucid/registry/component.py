"""The registry as a `lucid serve` component: expiry timer, health checker, store follower.

On start it reads every registration once (the recovery time: each lease restarts a full
TTL from now) and schedules its checks, spread over each interval; then it follows the
store's change feed, so a registration written by anyone (the registration API, an
operator's `lucid apply`, another replica) is checked, rescheduled when its health check
changes, and dropped when it is deleted or expires. All of it runs on the event loop; every
store call is made in a worker thread, so the loop that also serves the API and xDS never
waits on the store.

Given the mesh CA, it also follows sidecar configurations, so that instances behind a
sidecar requiring mesh mTLS are probed with the health checker's certificate
(`mesh_tls.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lucid.ca import CertificateAuthority
from lucid.models import ServiceRegistration
from lucid.registry.checker import DEFAULT_CONCURRENCY, HealthChecker
from lucid.registry.health import CheckResult, HealthState
from lucid.registry.leases import ExpiryTimer
from lucid.registry.mesh_tls import SIDECARS, MeshTls, read_sidecars
from lucid.registry.probes import Probes
from lucid.registry.registry import COLLECTION, Registry
from lucid.store import Record, StoreError
from lucid.store.feed import follow

log = logging.getLogger(__name__)


class RegistryComponent:
    name = "registry"

    def __init__(
        self,
        registry: Registry,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        ca: CertificateAuthority | None = None,
    ) -> None:
        self.registry = registry
        self._concurrency = concurrency
        self._mesh = MeshTls(ca) if ca is not None else None
        self._stopped = asyncio.Event()
        self.checker: HealthChecker | None = None
        self.started = asyncio.Event()
        self._pending: dict[str, HealthState] = {}
        self._wrote = asyncio.Event()

    async def run(self) -> None:
        probes = Probes(mesh=self._mesh)
        checker = HealthChecker(self._record, concurrency=self._concurrency, probes=probes)
        self.checker = checker
        timer = ExpiryTimer(self.registry.leases, self._expire)
        store = self.registry.store
        since = await asyncio.to_thread(store.revision)
        if self._mesh is not None:
            for key, sidecar in (await asyncio.to_thread(read_sidecars, store)).items():
                self._mesh.sidecar(key, sidecar)
        records = await asyncio.to_thread(self.registry.list, {})
        for stored in records:
            self._take(stored.key, stored, checker, at_start=True)
        log.info(
            "registry: %d registration(s), %d lease(s) restarted from now, %d checked",
            len(records),
            len(self.registry.leases),
            len(checker.scheduled()),
        )
        tasks = [
            asyncio.create_task(timer.run(), name="registry expiry"),
            asyncio.create_task(self._follow(since, checker), name="registry follower"),
            asyncio.create_task(self._write_transitions(), name="registry writer"),
        ]
        self.started.set()
        stop = asyncio.create_task(self._stopped.wait())
        try:
            done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop:
                    task.result()  # a crashed timer or follower stops `lucid serve`
        finally:
            for task in [stop, *tasks]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await checker.close()

    def stop(self) -> None:
        self._stopped.set()

    async def _follow(self, since: int, checker: HealthChecker) -> None:
        async for batch in follow(self.registry.store, since=since):
            sidecars = sorted({c.key for c in batch if c.collection == SIDECARS})
            if self._mesh is not None and sidecars:
                read = await asyncio.to_thread(read_sidecars, self.registry.store, sidecars)
                for key, sidecar in read.items():
                    self._mesh.sidecar(key, sidecar)
            keys = sorted({c.key for c in batch if c.collection == COLLECTION})
            if not keys:
                continue
            records = await asyncio.to_thread(self._read, keys)
            for key in keys:
                self._take(key, records.get(key), checker, at_start=False)
            await checker.probes.prune(checker.scheduled())

    def _read(self, keys: list[str]) -> dict[str, Record | None]:
        store = self.registry.store
        return {key: store.get(collection=COLLECTION, key=key) for key in keys}

    def _take(
        self, key: str, stored: Record | None, checker: HealthChecker, *, at_start: bool
    ) -> None:
        model = self.registry.adopt(key, stored)
        if self._mesh is not None:
            self._mesh.registration(key, model)
        if model is None:
            checker.unschedule(key)
        else:
            checker.schedule(model, at_start=at_start)

    async def _record(self, registration: ServiceRegistration, result: CheckResult) -> None:
        before, after, stale = self.registry.observe(registration.serviceId, result, registration)
        if before.status != after.status:
            log.info(
                "%s (%s) is %s (was %s)%s",
                registration.serviceId,
                registration.serviceName,
                after.status,
                before.status,
                f": {after.error}" if after.error else "",
            )
        if stale:
            self._pending[registration.serviceId] = after
            self._wrote.set()

    async def _write_transitions(self) -> None:
        """Store pending transitions, one batch per store write; the checks never wait."""
        while True:
            await self._wrote.wait()
            self._wrote.clear()
            batch, self._pending = self._pending, {}
            try:
                await asyncio.to_thread(self.registry.persist_health, batch)
            except StoreError as exc:  # the next check of each finds it stale and retries
                log.warning("cannot store %d health transition(s) yet: %s", len(batch), exc)

    async def _expire(self, service_id: str) -> None:
        if await asyncio.to_thread(self.registry.expire, service_id) and self.checker:
            self.checker.unschedule(service_id)
