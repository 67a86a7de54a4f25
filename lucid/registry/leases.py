"""Registration leases: who must heartbeat, by when, and the timer that expires them.

A lease is in memory only: its deadline is on the monotonic clock (wall-clock jumps never
expire anyone), renewals never touch the store (a heartbeat costs no write and wakes no xDS
push), and after a restart every lease starts a full TTL from the recovery time, so an
outage of the control plane never expires an instance that could not reach it.

`Leases` is shared by the API's worker threads (grant, renew) and the event loop (the
timer), so it is guarded by a lock that is never held across I/O. `ExpiryTimer` sleeps
until the earliest deadline (an asyncio timer, precise to milliseconds, not a poll) and is
woken whenever a grant makes an earlier deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

Monotonic = Callable[[], float]


@dataclass(frozen=True)
class Lease:
    ttl: int
    deadline: float  # monotonic seconds
    renewed_at: datetime  # wall clock of the last grant or renewal


class Leases:
    def __init__(self, monotonic: Monotonic = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._leases: dict[str, Lease] = {}
        self._heap: list[tuple[float, str]] = []
        self._wake: Callable[[], None] = lambda: None

    def on_earlier_deadline(self, wake: Callable[[], None]) -> None:
        """Call `wake` (from any thread) whenever a grant moves the earliest deadline up."""
        self._wake = wake

    def grant(self, service_id: str, ttl: int, now: datetime) -> Lease:
        """Start (or restart) a lease of `ttl` seconds from now."""
        lease = Lease(ttl, self._monotonic() + ttl, now)
        with self._lock:
            self._leases[service_id] = lease
            earliest = not self._heap or lease.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (lease.deadline, service_id))
        if earliest:
            self._wake()
        return lease

    def renew(self, service_id: str, now: datetime) -> Lease | None:
        """Push a live lease's deadline a full TTL away; None if there is no lease."""
        with self._lock:
            current = self._leases.get(service_id)
            if current is None:
                return None
            lease = Lease(current.ttl, self._monotonic() + current.ttl, now)
            self._leases[service_id] = lease
            # The old heap entry stays: the timer finds it stale and skips it. The new
            # deadline is later than the old one, so the timer never needs waking.
            heapq.heappush(self._heap, (lease.deadline, service_id))
        return lease

    def retime(self, service_id: str, ttl: int) -> None:
        """A new TTL for a live lease, effective from its last renewal."""
        with self._lock:
            current = self._leases.get(service_id)
            if current is None or current.ttl == ttl:
                return
            deadline = current.deadline - current.ttl + ttl
            self._leases[service_id] = Lease(ttl, deadline, current.renewed_at)
            earliest = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, service_id))
        if earliest:
            self._wake()

    def drop(self, service_id: str) -> None:
        with self._lock:
            self._leases.pop(service_id, None)

    def get(self, service_id: str) -> Lease | None:
        with self._lock:
            return self._leases.get(service_id)

    def remaining(self, lease: Lease) -> float:
        return max(0.0, lease.deadline - self._monotonic())

    def is_due(self, service_id: str) -> bool:
        with self._lock:
            lease = self._leases.get(service_id)
            return lease is not None and lease.deadline <= self._monotonic()

    def postpone(self, service_id: str, seconds: float) -> None:
        """Look at a due lease again in `seconds` (its expiry could not be recorded)."""
        with self._lock:
            current = self._leases.get(service_id)
            if current is None:
                return
            deadline = self._monotonic() + seconds
            self._leases[service_id] = Lease(current.ttl, deadline, current.renewed_at)
            heapq.heappush(self._heap, (deadline, service_id))

    def due(self) -> tuple[list[str], float | None]:
        """Ids whose deadline has passed, and the seconds until the next one (if any)."""
        now = self._monotonic()
        expired: list[str] = []
        with self._lock:
            while self._heap:
                deadline, service_id = self._heap[0]
                lease = self._leases.get(service_id)
                if lease is None or lease.deadline != deadline:
                    heapq.heappop(self._heap)  # stale: renewed, retimed or dropped
                elif deadline <= now:
                    heapq.heappop(self._heap)
                    expired.append(service_id)
                else:
                    return expired, deadline - now
        return expired, None

    def __len__(self) -> int:
        with self._lock:
            return len(self._leases)


class ExpiryTimer:
    """Calls `expire(service_id)` for each lease as its deadline passes."""

    def __init__(self, leases: Leases, expire: Callable[[str], Awaitable[None]]) -> None:
        self._leases = leases
        self._expire = expire
        self._woken = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(self._woken.set)

        self._leases.on_earlier_deadline(wake)
        try:
            while True:
                self._woken.clear()
                expired, delay = self._leases.due()
                for service_id in expired:
                    await self._expire(service_id)
                if expired:
                    continue  # expiring took time: look at the heap again before sleeping
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), delay)
        finally:
            self._leases.on_earlier_deadline(lambda: None)
