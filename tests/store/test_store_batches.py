"""Batches are atomic and every write in them gets its own, ever-growing revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lucid.store import Change, DuplicateKey, MissingKey, Store, StoreError, Write

Opener = Callable[[], Store]

POLICIES = "service_mesh_policies"


def policy(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": "traffic", "priority": 1, **fields}


def test_each_write_in_a_batch_gets_its_own_revision(store: Store) -> None:
    revision = store.write(writes=[Write("put", POLICIES, n, policy(n)) for n in ("a", "b", "c")])
    assert revision == 3
    assert [store.get(collection=POLICIES, key=n).revision for n in "abc"] == [1, 2, 3]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (Write("create", POLICIES, "taken", policy("taken")), DuplicateKey),
        (Write("update", POLICIES, "ghost", policy("ghost")), MissingKey),
        (Write("delete", POLICIES, "ghost"), MissingKey),
    ],
    ids=["duplicate-create", "missing-update", "missing-delete"],
)
def test_a_bad_write_in_the_middle_leaves_nothing_written(
    store: Store, bad: Write, error: type[StoreError]
) -> None:
    store.write(writes=[Write("put", POLICIES, "taken", policy("taken", priority=7))])
    before = store.revision()
    batch = [
        Write("put", POLICIES, "first", policy("first")),
        Write("put", POLICIES, "taken", policy("taken", priority=8)),
        bad,
        Write("create", POLICIES, "last", policy("last")),
    ]
    with pytest.raises(error):
        store.write(writes=batch)
    assert store.revision() == before
    assert [r.key for r in store.list(collection=POLICIES)] == ["taken"]
    assert store.get(collection=POLICIES, key="taken").document["priority"] == 7  # type: ignore[union-attr]
    assert store.changes(since=before) == []


def test_a_batch_sees_its_own_earlier_writes(store: Store) -> None:
    store.write(
        writes=[
            Write("create", POLICIES, "a", policy("a")),
            Write("update", POLICIES, "a", policy("a", priority=2)),
            Write("delete", POLICIES, "a"),
            Write("create", POLICIES, "a", policy("a", priority=3)),
        ]
    )
    record = store.get(collection=POLICIES, key="a")
    assert record is not None and record.document["priority"] == 3 and record.revision == 4


def test_an_empty_batch_changes_nothing(store: Store) -> None:
    store.write(writes=[Write("put", POLICIES, "a", policy("a"))])
    assert store.write(writes=[]) == 1
    assert store.revision() == 1


def test_a_batch_with_an_invalid_write_is_rejected_before_anything_is_written(
    store: Store,
) -> None:
    with pytest.raises(ValueError, match="does not match key"):
        store.write(
            writes=[
                Write("put", POLICIES, "a", policy("a")),
                Write("put", POLICIES, "b", policy("not-b")),
            ]
        )
    assert store.revision() == 0
    assert store.list(collection=POLICIES) == []


def test_revision_never_goes_back_after_deletes_and_a_reopen(reopen: Opener) -> None:
    store = reopen()
    store.write(writes=[Write("put", POLICIES, "a", policy("a"))])
    store.write(writes=[Write("delete", POLICIES, "a")])
    assert store.revision() == 2
    store.close()

    again = reopen()
    assert again.revision() == 2
    assert again.write(writes=[Write("put", POLICIES, "a", policy("a"))]) == 3
    assert again.changes(since=0) == [
        Change(1, POLICIES, "a", "put"),
        Change(2, POLICIES, "a", "delete"),
        Change(3, POLICIES, "a", "put"),
    ]
