"""follow(): the change feed as an async iterator that a task can stop at any time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from lucid.store import Change, Store, Write
from lucid.store.feed import follow

POLICIES = "service_mesh_policies"
POLL = 0.05  # bounds how long a cancelled follow() keeps its worker thread


def put(store: Store, *names: str) -> int:
    return store.write(writes=[Write("put", POLICIES, n, {"name": n}) for n in names])


async def next_batch(feed: AsyncGenerator[list[Change], None]) -> list[Change]:
    return await asyncio.wait_for(anext(feed), timeout=30)


async def test_follow_yields_past_changes_then_new_ones(store: Store) -> None:
    put(store, "a", "b")
    feed = follow(store, since=0, poll=POLL)
    try:
        assert [c.key for c in await next_batch(feed)] == ["a", "b"]
        await asyncio.to_thread(put, store, "c")
        assert await next_batch(feed) == [Change(3, POLICIES, "c", "put")]
    finally:
        await feed.aclose()


async def test_follow_starts_after_since(store: Store) -> None:
    put(store, "a", "b", "c")
    feed = follow(store, since=2, poll=POLL)
    try:
        assert [c.revision for c in await next_batch(feed)] == [3]
    finally:
        await feed.aclose()


async def test_follow_splits_a_backlog_into_batches_of_limit(store: Store) -> None:
    put(store, "a", "b", "c", "d", "e")
    feed = follow(store, since=0, poll=POLL, limit=2)
    try:
        batches = [await next_batch(feed) for _ in range(3)]
        assert [[c.key for c in batch] for batch in batches] == [["a", "b"], ["c", "d"], ["e"]]
    finally:
        await feed.aclose()


async def test_a_task_following_the_store_can_be_cancelled(store: Store) -> None:
    seen: list[Change] = []
    waiting = asyncio.Event()

    async def consume() -> None:
        waiting.set()
        async for batch in follow(store, since=0, poll=POLL):
            seen.extend(batch)

    task = asyncio.create_task(consume())
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == []
