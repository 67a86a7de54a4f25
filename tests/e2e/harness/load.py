"""A steady stream of requests in a background thread, every answer recorded.

Live-update scenarios (and the demo) change the mesh while traffic flows and then ask
two questions of the record: did any request fail, and when did the answers first show
the change? `SteadyLoad` sends one request at a time through a caller's sidecar on its
own keep-alive connection, pausing `interval` between requests, and keeps a `Sample` per
request: when it was sent and answered (monotonic clock), the status, and which app
instance answered (`x-app-instance`), or the transport error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tests.e2e.harness.processes import wait_until


@dataclass(frozen=True)
class Sample:
    sent: float
    answered: float
    status: int | None
    instance: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class SteadyLoad:
    """Requests to `destination` + `path` through `outbound_url` until `stop()`."""

    def __init__(
        self,
        outbound_url: str,
        destination: str,
        path: str = "/",
        *,
        interval: float = 0.005,
        timeout: float = 10.0,
    ) -> None:
        self.destination = destination
        self.path = path
        self.interval = interval
        self._client = httpx.Client(base_url=outbound_url, timeout=timeout)
        self._samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"load-{destination}", daemon=True)

    def __enter__(self) -> SteadyLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _one(self, number: int) -> Sample:
        sent = time.monotonic()
        try:
            answer = self._client.get(f"{self.path}{number}", headers={"host": self.destination})
        except httpx.HTTPError as exc:
            return Sample(sent, time.monotonic(), None, None, f"{type(exc).__name__}: {exc}")
        return Sample(
            sent, time.monotonic(), answer.status_code, answer.headers.get("x-app-instance")
        )

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            sample = self._one(number)
            with self._lock:
                self._samples.append(sample)
            number += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._client.close()

    def samples(self, since: float = 0.0) -> list[Sample]:
        """Samples of requests sent at or after `since` (monotonic seconds)."""
        with self._lock:
            return [s for s in self._samples if s.sent >= since]

    def failures(self) -> list[Sample]:
        return [s for s in self.samples() if not s.ok]

    def first(self, since: float, condition: Callable[[Sample], bool]) -> Sample | None:
        return next((s for s in self.samples(since) if condition(s)), None)

    def wait_for(
        self, since: float, condition: Callable[[Sample], bool], *, timeout: float, what: str
    ) -> Sample:
        """The first sample sent since `since` that meets `condition`, waiting for it."""
        wait_until(
            lambda: self.first(since, condition) is not None,
            timeout=timeout,
            what=what,
            describe=lambda: f"last answers: {self.samples(since)[-5:]}",
        )
        found = self.first(since, condition)
        assert found is not None
        return found

    def wait_settled(
        self,
        since: float,
        condition: Callable[[Sample], bool],
        *,
        settle: float,
        timeout: float,
        what: str,
    ) -> float:
        """Wait until every answer for `settle` seconds meets `condition`; return when the
        last answer that did not was sent (or `since`, if none)."""

        def settled() -> bool:
            recent = self.samples(time.monotonic() - settle)
            return (
                bool(recent)
                and all(condition(s) for s in recent)
                and (time.monotonic() - settle >= since)
            )

        wait_until(settled, timeout=timeout, what=what)
        misses = [s.sent for s in self.samples(since) if not condition(s)]
        return max(misses, default=since)
