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
        head = await self.first(idle_timeout)
        if head is None:
            return None
        items, started = head
        return items + await self.rest(started), started

    async def first(self, idle_timeout: float | None = None) -> tuple[list[T], float] | None:
        """The first batch of the next group and when it arrived (None: nothing within
        `idle_timeout`); `rest` then gathers the others. Split so that the pipeline can
        start translating the first batch while the group is still open."""
        try:
            first = await asyncio.wait_for(self.queue.get(), idle_timeout)
        except TimeoutError:
            return None
        return list(first), time.monotonic()

    async def rest(self, started: float) -> list[T]:
        """The rest of the group begun at `started`: what arrives until `quiet` passes
        without a change, or `max_delay` after `started` at the latest."""
        items: list[T] = []
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
        return items
