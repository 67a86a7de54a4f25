"""Debouncing the change feed: act 50 ms after the last change, but at most 500 ms late.

A burst of writes (an `apply` of fifty documents, a registry sweep) should become one
push, not fifty; a steady trickle must still be pushed within `max_delay`. `Debouncer`
collects batches from a queue and returns the gathered changes together with the moment
the first of them was seen, which becomes the convergence stamp of the push.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DebounceConfig:
    quiet: float = 0.05  # seconds without a change before acting
    max_delay: float = 0.5  # seconds after the first change at the latest

    def __post_init__(self) -> None:
        if self.quiet < 0 or self.max_delay < self.quiet:
            raise ValueError("debounce needs 0 <= quiet <= max_delay")


class Debouncer(Generic[T]):
    def __init__(self, config: DebounceConfig) -> None:
        self.config = config
        self.queue: asyncio.Queue[list[T]] = asyncio.Queue()

    def put(self, items: list[T]) -> None:
        if items:
            self.queue.put_nowait(items)

    async def next(self, idle_timeout: float | None = None) -> tuple[list[T], float] | None:
        """The next debounced group of items and when its first item arrived; None when
        nothing arrives within `idle_timeout` seconds."""
        try:
            first = await asyncio.wait_for(self.queue.get(), idle_timeout)
        except TimeoutError:
            return None
        started = time.monotonic()
        items = list(first)
        deadline = started + self.config.max_delay
        while True:
            remaining = min(self.config.quiet, deadline - time.monotonic())
            if remaining <= 0:
                break
            try:
                items.extend(await asyncio.wait_for(self.queue.get(), remaining))
            except TimeoutError:
                break
        while not self.queue.empty():  # whatever already waits goes in this round too
            items.extend(self.queue.get_nowait())
        return items, started
