"""The change feed: changes() in revision order, and wait() for the next write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lucid.store import Change, Store, Write

Opener = Callable[[], Store]

POLICIES = "service_mesh_policies"
REGISTRY = "service_registry"
LONG = 30.0  # a bound that is never reached when the store works


def policy(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": "traffic", **fields}


def test_changes_come_oldest_first_with_their_ops(store: Store) -> None:
    store.write(writes=[Write("create", POLICIES, "a", policy("a"))])
    store.write(
        writes=[
            Write("put", REGISTRY, "s1", {"serviceId": "s1"}),
            Write("update", POLICIES, "a", policy("a", priority=2)),
        ]
    )
    store.write(writes=[Write("delete", POLICIES, "a")])
    assert store.changes(since=0) == [
        Change(1, POLICIES, "a", "put"),
        Change(2, REGISTRY, "s1", "put"),
        Change(3, POLICIES, "a", "put"),
        Change(4, POLICIES, "a", "delete"),
    ]


def test_changes_start_after_since_and_stop_at_limit(store: Store) -> None:
    store.write(writes=[Write("put", POLICIES, n, policy(n)) for n in "abcde"])
    assert [c.revision for c in store.changes(since=2, limit=2)] == [3, 4]
    assert store.changes(since=5) == []


def test_wait_returns_at_once_when_the_revision_is_already_past(store: Store) -> None:
    store.write(writes=[Write("put", POLICIES, "a", policy("a"))])
    assert store.wait(since=0, timeout=LONG) == 1


def test_wait_times_out_with_the_unchanged_revision(store: Store) -> None:
    store.write(writes=[Write("put", POLICIES, "a", policy("a"))])
    assert store.wait(since=1, timeout=0.05) == 1
    assert store.wait(since=1, timeout=0) == 1


def write_in_thread(store: Store, write: Write, go: threading.Event) -> threading.Thread:
    def run() -> None:
        go.wait(LONG)
        store.write(writes=[write])

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_wait_wakes_on_a_write_from_another_thread(store: Store) -> None:
    go = threading.Event()
    thread = write_in_thread(store, Write("put", POLICIES, "a", policy("a")), go)
    go.set()
    try:
        assert store.wait(since=0, timeout=LONG) == 1
    finally:
        thread.join()


def test_a_second_store_on_the_same_data_sees_writes(reopen: Opener) -> None:
    writer, reader = reopen(), reopen()
    writer.write(writes=[Write("put", POLICIES, "a", policy("a"))])
    record = reader.get(collection=POLICIES, key="a")
    assert record is not None and record.document == policy("a")
    assert reader.revision() == 1
    assert reader.changes(since=0) == [Change(1, POLICIES, "a", "put")]


def test_wait_wakes_on_a_write_through_a_second_store(reopen: Opener) -> None:
    writer, reader = reopen(), reopen()
    go = threading.Event()
    thread = write_in_thread(writer, Write("put", POLICIES, "a", policy("a")), go)
    go.set()
    try:
        assert reader.wait(since=0, timeout=LONG) == 1
    finally:
        thread.join()
