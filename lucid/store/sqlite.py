"""The embedded store: one SQLite file in WAL mode, so `lucid serve` needs no database server.

Each collection is a table holding the JSON document, the revision of its last write, and
one column per indexed field (copied out of the document, objects as canonical JSON) with
an index on each, so `list(where=...)` is an indexed lookup rather than a scan of JSON. The
`changes` table is the change feed and the `meta` table keeps the store revision, which
therefore survives deletes and restarts. A batch is one `BEGIN IMMEDIATE` transaction: every
write in it gets its own revision and either all of them commit or none does.

One connection is shared by every thread (FastAPI's threadpool, `asyncio.to_thread`) behind
one lock; `wait` sleeps on a condition that in-process writes notify, and re-reads the
revision every 100 ms so that writes made by another process on the same file are seen too.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from lucid.store.base import (
    COLLECTIONS,
    Change,
    ChangeOp,
    CollectionSpec,
    Document,
    DuplicateKey,
    MissingKey,
    Record,
    StoreUnavailable,
    Write,
    check_where,
    check_write,
)

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.1  # seconds between re-reads of the file's revision inside wait()
BUSY_TIMEOUT = 5.0  # seconds to wait for another process's write lock before giving up
_RESERVED_COLUMNS = ("document", "revision")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _dump(document: Document) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _column_value(value: Any) -> Any:
    """An indexed field as SQLite stores it: scalars natively, anything else as JSON text."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return _dump(value)


def _columns(spec: CollectionSpec) -> list[str]:
    for name in (spec.key, *spec.indexes):
        if name in _RESERVED_COLUMNS:
            raise ValueError(f"{spec.name}: field {name!r} clashes with a store column")
    return [spec.key, "document", "revision", *spec.indexes]


class SQLiteStore:
    """A Store on one SQLite file (created, with its directory, if it does not exist)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}") from exc
        try:
            with self._guard("open"):
                self._set_up()
        except StoreUnavailable:
            self._db.close()
            raise
        log.info("SQLite store at %s (revision %d)", self.path, self.revision())

    # -- reads ------------------------------------------------------------------------

    def get(self, *, collection: str, key: str) -> Record | None:
        spec = check_where(collection, None)
        sql = f"SELECT revision, document FROM {_quote(collection)} WHERE {_quote(spec.key)} = ?"
        with self._lock, self._guard("get"):
            row = self._db.execute(sql, (key,)).fetchone()
        return None if row is None else Record(collection, key, row[0], json.loads(row[1]))

    def list(
        self,
        *,
        collection: str,
        where: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> builtins.list[Record]:
        spec = check_where(collection, where)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        clauses = [f"{_quote(name)} IS ?" for name in where or {}]
        params: list[Any] = [_column_value(value) for value in (where or {}).values()]
        sql = f"SELECT {_quote(spec.key)}, revision, document FROM {_quote(collection)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {_quote(spec.key)}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock, self._guard("list"):
            rows = self._db.execute(sql, params).fetchall()
        return [Record(collection, key, rev, json.loads(doc)) for key, rev, doc in rows]

    def revision(self) -> int:
        with self._lock, self._guard("revision"):
            return self._read_revision()

    def changes(self, *, since: int, limit: int = 1000) -> builtins.list[Change]:
        if limit <= 0:  # SQLite reads a negative LIMIT as "no limit"
            return []
        sql = (
            "SELECT revision, collection, key, op FROM changes"
            " WHERE revision > ? ORDER BY revision LIMIT ?"
        )
        with self._lock, self._guard("changes"):
            rows = self._db.execute(sql, (since, limit)).fetchall()
        return [Change(rev, collection, key, op) for rev, collection, key, op in rows]

    def wait(self, *, since: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                with self._guard("wait"):
                    current = self._read_revision()
                remaining = deadline - time.monotonic()
                if current > since or remaining <= 0:
                    return current
                self._changed.wait(min(remaining, POLL_INTERVAL))

    # -- writes -----------------------------------------------------------------------

    def write(self, *, writes: Sequence[Write]) -> int:
        for write in writes:
            check_write(write)
        if not writes:
            return self.revision()
        documents = [None if w.document is None else _dump(w.document) for w in writes]
        with self._changed, self._guard("write"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                revision = self._read_revision()
                for write, document in zip(writes, documents, strict=True):
                    revision += 1
                    self._apply(write, document, revision)
                self._db.execute("UPDATE meta SET value = ? WHERE name = 'revision'", (revision,))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            self._changed.notify_all()
        log.debug("committed %d write(s), revision %d", len(writes), revision)
        return revision

    def _apply(self, write: Write, document: str | None, revision: int) -> None:
        spec = COLLECTIONS[write.collection]
        table, key_column = _quote(spec.name), _quote(spec.key)
        op: ChangeOp = "delete" if write.op == "delete" else "put"
        if write.op == "delete":
            cursor = self._db.execute(f"DELETE FROM {table} WHERE {key_column} = ?", (write.key,))
            if cursor.rowcount == 0:
                raise MissingKey(write.collection, write.key)
        else:
            assert write.document is not None and document is not None  # check_write did it
            exists = self._db.execute(
                f"SELECT 1 FROM {table} WHERE {key_column} = ?", (write.key,)
            ).fetchone()
            if write.op == "create" and exists:
                raise DuplicateKey(write.collection, write.key)
            if write.op == "update" and not exists:
                raise MissingKey(write.collection, write.key)
            columns = _columns(spec)
            values = [write.key, document, revision]
            values += [_column_value(write.document.get(name)) for name in spec.indexes]
            self._db.execute(
                f"INSERT OR REPLACE INTO {table} ({', '.join(map(_quote, columns))})"
                f" VALUES ({', '.join('?' * len(columns))})",
                values,
            )
        self._db.execute(
            "INSERT INTO changes (revision, collection, key, op, ts) VALUES (?, ?, ?, ?, ?)",
            (revision, write.collection, write.key, op, time.time()),
        )

    def close(self) -> None:
        with self._changed:
            if not self._closed:
                self._closed = True
                self._db.close()
            self._changed.notify_all()

    # -- internals --------------------------------------------------------------------

    def _read_revision(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()
        return int(row[0]) if row else 0

    def _rollback(self) -> None:
        # A failed ROLLBACK (connection gone) must not hide the error that caused it.
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn any SQLite failure (locked, disk full, closed, unwritable) into StoreUnavailable."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path}: {action} failed: {exc}") from exc

    def _set_up(self) -> None:
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            log.warning("SQLite store %s runs in journal mode %r, not WAL", self.path, mode)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
            )
            self._db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS changes (revision INTEGER PRIMARY KEY,"
                " collection TEXT NOT NULL, key TEXT NOT NULL, op TEXT NOT NULL, ts REAL NOT NULL)"
            )
            for spec in COLLECTIONS.values():
                self._create_collection(spec)
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _create_collection(self, spec: CollectionSpec) -> None:
        table = _quote(spec.name)
        # Index columns have no declared type, so values keep theirs: "1" never equals 1.
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ({_quote(spec.key)} TEXT PRIMARY KEY,"
            " document TEXT NOT NULL, revision INTEGER NOT NULL"
            + "".join(f", {_quote(name)}" for name in spec.indexes)
            + ")"
        )
        present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        missing = [name for name in spec.indexes if name not in present]
        for name in missing:  # an index added to COLLECTIONS after this file was created
            self._db.execute(f"ALTER TABLE {table} ADD COLUMN {_quote(name)}")
        if missing:
            rows = self._db.execute(f"SELECT {_quote(spec.key)}, document FROM {table}")
            for key, document in rows.fetchall():
                fields = json.loads(document)
                self._db.execute(
                    f"UPDATE {table} SET "
                    + ", ".join(f"{_quote(name)} = ?" for name in missing)
                    + f" WHERE {_quote(spec.key)} = ?",
                    [*(_column_value(fields.get(name)) for name in missing), key],
                )
            log.info("%s: backfilled index column(s) %s", spec.name, ", ".join(missing))
        for name in spec.indexes:
            self._db.execute(
                f"CREATE INDEX IF NOT EXISTS {_quote(f'{spec.name}_{name}')}"
                f" ON {table} ({_quote(name)})"
            )
