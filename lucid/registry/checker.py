"""Active health checks: when each registration is checked, and how a check is run.

Each registration has one task on the event loop that sleeps until its next check is due.
Checks run at a fixed rate (due, due + interval, ...), not a fixed delay, so a slow check
never drifts the schedule; a check that would overlap the next one is skipped, not queued.

No thundering herd: registrations known at start-up get their first check at a phase
spread evenly over their interval (a hash of the serviceId, so the spread is stable and
needs no coordination); one registered later is first checked within a second. A
semaphore bounds how many checks run at once; how late each check started against its
schedule (waiting for a slot included) is kept as the schedule skew, next to how late its
timer fired and how long the check took, for the benchmark.

A check is up to `retries` attempts, each bounded by `timeout`, a short pause apart, and
never running into the next check's slot: it passes as soon as one attempt passes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from lucid.models import ServiceRegistration
from lucid.registry.health import CheckResult
from lucid.registry.probes import Probes

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 100
RETRY_PAUSE = 0.1  # seconds between two attempts of one check
NEW_REGISTRATION_DELAY = 1.0  # first check of a later registration: within this many seconds
SKEW_SAMPLES = 100_000

OnResult = Callable[[ServiceRegistration, CheckResult], Awaitable[None]]


def phase(service_id: str, interval: float) -> float:
    """A stable offset in [0, interval) for this serviceId."""
    digest = hashlib.blake2b(service_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * interval


def _now() -> datetime:
    return datetime.now(UTC)


class HealthChecker:
    def __init__(
        self,
        on_result: OnResult,
        *,
        probes: Probes | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._on_result = on_result
        self.probes = probes or Probes()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, tuple[ServiceRegistration, asyncio.Task[None]]] = {}
        # How late each check started (waiting for a slot included), and how late its timer
        # fired (the loop's own precision): seconds, the latest SKEW_SAMPLES of each.
        self.skews: collections.deque[float] = collections.deque(maxlen=SKEW_SAMPLES)
        self.timer_skews: collections.deque[float] = collections.deque(maxlen=SKEW_SAMPLES)
        self.durations: collections.deque[float] = collections.deque(maxlen=SKEW_SAMPLES)
        self.checks = 0

    def schedule(self, registration: ServiceRegistration, *, at_start: bool = False) -> None:
        """Check `registration` from now on; a changed registration is rescheduled."""
        key = registration.serviceId
        current = self._tasks.get(key)
        if current is not None:
            if current[0] == registration:
                return
            current[1].cancel()
        loop = asyncio.get_running_loop()
        interval = registration.healthCheck.interval
        if at_start:
            first = loop.time() + phase(key, interval)
        else:
            first = loop.time() + random.uniform(0, min(NEW_REGISTRATION_DELAY, interval))
        task = asyncio.create_task(self._run(registration, first), name=f"health-check {key}")
        self._tasks[key] = (registration, task)

    def unschedule(self, service_id: str) -> None:
        current = self._tasks.pop(service_id, None)
        if current is not None:
            current[1].cancel()

    def scheduled(self) -> list[ServiceRegistration]:
        return [registration for registration, _ in self._tasks.values()]

    async def close(self) -> None:
        tasks = [task for _, task in self._tasks.values()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.probes.close()

    async def _run(self, registration: ServiceRegistration, due: float) -> None:
        loop = asyncio.get_running_loop()
        interval = float(registration.healthCheck.interval)
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.timer_skews.append(loop.time() - due)
            async with self._slots:
                started = loop.time()
                self.skews.append(started - due)
                result = await self.check(registration, until=due + interval)
                self.durations.append(loop.time() - started)
            self.checks += 1
            try:
                await self._on_result(registration, result)
            except Exception:
                log.exception("recording the check of %s failed", registration.serviceId)
            due += interval
            late = loop.time() - due
            if late > 0:  # the check overran its slot: skip the missed ones
                due += interval * (int(late // interval) + 1)

    async def check(self, registration: ServiceRegistration, *, until: float) -> CheckResult:
        """One check: up to `retries` attempts, none starting after `until` (loop time)."""
        loop = asyncio.get_running_loop()
        config = registration.healthCheck
        attempts = 0
        last_ms: float | None = None
        error: str | None = None
        while attempts < config.retries:
            remaining = until - loop.time()
            if attempts and remaining < RETRY_PAUSE + config.timeout:
                break
            if attempts:
                await asyncio.sleep(RETRY_PAUSE)
            attempts += 1
            attempt = await self.probes.attempt(registration, float(config.timeout))
            if attempt.response_ms is not None:
                last_ms = attempt.response_ms
            if attempt.passed:
                return self._result(registration, True, last_ms, None, attempts)
            error = attempt.error
        return self._result(registration, False, last_ms, error, attempts)

    def _result(
        self,
        registration: ServiceRegistration,
        passed: bool,
        response_ms: float | None,
        error: str | None,
        attempts: int,
    ) -> CheckResult:
        return CheckResult(
            passed=passed,
            checked_at=_now(),
            response_ms=response_ms,
            error=error,
            attempts=attempts,
            details=self.probes.details(registration),
        )
