"""What only the SQLite backend promises: a WAL file, indexed columns, clear failures."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lucid.store import COLLECTIONS, CollectionSpec, SQLiteStore, StoreUnavailable, Write
from lucid.store import sqlite as sqlite_module

POLICIES = "service_mesh_policies"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "lucid.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(path)
    yield opened
    opened.close()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_the_file_and_its_directory_are_created_in_wal_mode(store: SQLiteStore, path: Path) -> None:
    assert path.is_file()
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


def test_every_indexed_field_has_a_column_and_an_index(store: SQLiteStore, path: Path) -> None:
    for spec in COLLECTIONS.values():
        columns = {row[1] for row in query(path, f'PRAGMA table_info("{spec.name}")')}
        assert {spec.key, "document", "revision", *spec.indexes} <= columns
        indexed = {
            row[0]
            for row in query(path, f"SELECT sql FROM sqlite_master WHERE tbl_name = '{spec.name}'")
            if str(row[0]).startswith("CREATE INDEX")
        }
        assert len(indexed) == len(spec.indexes)


def test_object_fields_are_stored_as_canonical_json(store: SQLiteStore, path: Path) -> None:
    event = {"eventId": "e1", "tags": {"team": "core", "env": "prod"}}
    store.write(writes=[Write("put", "event_stream", "e1", event)])
    assert query(path, "SELECT tags FROM event_stream") == [('{"env":"prod","team":"core"}',)]


def test_an_index_added_later_is_backfilled_on_open(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = SQLiteStore(path)
    policy = {"name": "a", "namespace": "prod"}
    first.write(writes=[Write("put", POLICIES, "a", policy)])
    first.close()
    spec = COLLECTIONS[POLICIES]
    monkeypatch.setitem(
        COLLECTIONS, POLICIES, CollectionSpec(spec.name, spec.key, (*spec.indexes, "namespace"))
    )
    second = SQLiteStore(path)
    try:
        found = second.list(collection=POLICIES, where={"namespace": "prod"})
        assert [r.key for r in found] == ["a"]
    finally:
        second.close()


def test_an_unwritable_path_raises_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="cannot open SQLite store"):
        SQLiteStore(blocker / "lucid.db")


def test_a_directory_in_place_of_the_file_raises_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "lucid.db").mkdir()
    with pytest.raises(StoreUnavailable, match=r"lucid\.db"):
        SQLiteStore(tmp_path / "lucid.db")


def test_a_file_locked_by_another_writer_raises_store_unavailable(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT", 0.01)
    store = SQLiteStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.write(writes=[Write("put", POLICIES, "a", {"name": "a"})])
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()


def test_a_closed_store_raises_store_unavailable(path: Path) -> None:
    store = SQLiteStore(path)
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.revision()


def test_many_threads_writing_at_once_lose_no_revision(store: SQLiteStore) -> None:
    def run(worker: int) -> None:
        for n in range(20):
            name = f"w{worker}-{n}"
            store.write(writes=[Write("put", POLICIES, name, {"name": name})])

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.revision() == 80
    assert [c.revision for c in store.changes(since=0)] == list(range(1, 81))


WRITER = """
import sys
from lucid.store import SQLiteStore, Write
store = SQLiteStore(sys.argv[1])
store.write(writes=[Write("put", "service_mesh_policies", "remote", {"name": "remote"})])
store.close()
"""


def test_wait_sees_a_write_from_another_process(store: SQLiteStore, path: Path) -> None:
    revision = store.revision()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=REPO)
    try:
        assert store.wait(since=revision, timeout=60) == revision + 1
    finally:
        assert writer.wait(timeout=60) == 0
    record = store.get(collection=POLICIES, key="remote")
    assert record is not None and record.document == {"name": "remote"}


def test_a_failure_while_writing_rolls_back_the_whole_batch(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write(writes=[Write("put", POLICIES, "kept", {"name": "kept", "priority": 1})])
    calls = 0
    apply = SQLiteStore._apply

    def fail_second(self: SQLiteStore, write: Write, document: str | None, revision: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        apply(self, write, document, revision)

    monkeypatch.setattr(SQLiteStore, "_apply", fail_second)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.write(
            writes=[
                Write("put", POLICIES, "kept", {"name": "kept", "priority": 2}),
                Write("put", POLICIES, "new", {"name": "new"}),
            ]
        )
    monkeypatch.undo()
    assert [r.document for r in store.list(collection=POLICIES)] == [
        {"name": "kept", "priority": 1}
    ]
    assert store.revision() == 1
    assert len(store.changes(since=0)) == 1
