"""The shared store: MongoDB, so several control-plane replicas can serve one mesh state.

Collections carry the spec's names and indexes (a unique index on the key field, one
ascending index per indexed field). A stored document is the caller's document with its
keys sorted (so equality filters on object fields such as `tags` match whatever order the
caller built them in), plus `_id` = the key and `_revision`; both are removed on read.
The store revision is a counter in `lucid_meta` bumped with `$inc`, and every write adds a
`lucid_changes` document whose `_id` is its revision.

On a replica set (or mongos) a batch runs in one transaction and `wait` follows a change
stream on the counter. A standalone server has neither, so a batch is checked first
(DuplicateKey/MissingKey before anything is written) and undone if a write still fails,
writers in this process are serialised, and `wait` polls. Run several replicas only
against a replica set: on a standalone server their batches are not isolated.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError, InvalidURI, PyMongoError

from lucid.store.base import (
    COLLECTIONS,
    Change,
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

META = "lucid_meta"
CHANGES = "lucid_changes"
DEFAULT_DATABASE = "lucid"
SERVER_TIMEOUT_MS = 3000
POLL_INTERVAL = 0.1  # seconds between revision reads in wait() on a standalone server
_RESERVED = ("_id", "_revision")


def _canonical(value: Any) -> Any:
    """The value with every object's keys sorted, as it is stored and filtered on."""
    if isinstance(value, Mapping):
        return {name: _canonical(value[name]) for name in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return value


def _document(stored: Document) -> Document:
    return {name: value for name, value in stored.items() if name not in _RESERVED}


class MongoStore:
    """A Store on one MongoDB database (`database`, else the URI's, else `lucid`)."""

    def __init__(self, uri: str, *, database: str | None = None) -> None:
        self._changed = threading.Condition()
        self._generation = 0  # bumped by every write made through this object
        self._write_lock = threading.Lock()
        try:
            self._client: MongoClient[Document] = MongoClient(
                uri,
                serverSelectionTimeoutMS=SERVER_TIMEOUT_MS,
                connectTimeoutMS=SERVER_TIMEOUT_MS,
                appname="lucid-mesh",
            )
        except InvalidURI as exc:
            raise ValueError(f"invalid MongoDB URI: {exc}") from exc
        except PyMongoError as exc:
            raise StoreUnavailable(f"cannot reach MongoDB: {exc}") from exc
        self._db = (
            self._client[database]
            if database
            else self._client.get_default_database(default=DEFAULT_DATABASE)
        )
        self.database = self._db.name
        try:
            with self._guard("start-up"):
                hello = self._client.admin.command("hello")
                self._transactions = "setName" in hello or hello.get("msg") == "isdbgrid"
                self._create_indexes()
        except StoreUnavailable:
            self._client.close()
            raise
        log.info(
            "MongoDB store %s (%s, revision %d)",
            self.database,
            "transactions" if self._transactions else "standalone, no transactions",
            self.revision(),
        )

    def _create_indexes(self) -> None:
        for spec in COLLECTIONS.values():
            collection = self._db[spec.name]
            collection.create_index([(spec.key, ASCENDING)], unique=True)
            for name in spec.indexes:
                collection.create_index([(name, ASCENDING)])
        # Creating the changes collection here, not inside a first transaction, suits every
        # server version; the index on `ts` is for trimming old changes by age.
        self._db[CHANGES].create_index([("ts", ASCENDING)])
        self._db[META].update_one({"_id": "revision"}, {"$setOnInsert": {"value": 0}}, upsert=True)

    # -- reads ------------------------------------------------------------------------

    def get(self, *, collection: str, key: str) -> Record | None:
        check_where(collection, None)
        with self._guard("get"):
            stored = self._db[collection].find_one({"_id": key})
        if stored is None:
            return None
        return Record(collection, key, int(stored["_revision"]), _document(stored))

    def list(
        self,
        *,
        collection: str,
        where: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> builtins.list[Record]:
        check_where(collection, where)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        query = {name: {"$eq": _canonical(value)} for name, value in (where or {}).items()}
        with self._guard("list"):
            cursor = self._db[collection].find(query).sort("_id", ASCENDING)
            if limit is not None:
                cursor = cursor.limit(limit)
            found = list(cursor)
        return [Record(collection, str(s["_id"]), int(s["_revision"]), _document(s)) for s in found]

    def revision(self) -> int:
        with self._guard("revision"):
            counter = self._db[META].find_one({"_id": "revision"})
        return int(counter["value"]) if counter else 0

    def changes(self, *, since: int, limit: int = 1000) -> builtins.list[Change]:
        if limit <= 0:
            return []
        with self._guard("changes"):
            found = list(
                self._db[CHANGES].find({"_id": {"$gt": since}}).sort("_id", ASCENDING).limit(limit)
            )
        return [Change(int(c["_id"]), c["collection"], c["key"], c["op"]) for c in found]

    def wait(self, *, since: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        if self._transactions:
            return self._wait_on_stream(since, deadline)
        while True:
            with self._changed:
                seen = self._generation
            current = self.revision()
            remaining = deadline - time.monotonic()
            if current > since or remaining <= 0:
                return current
            with self._changed:
                if self._generation == seen:
                    self._changed.wait(min(remaining, POLL_INTERVAL))

    def _wait_on_stream(self, since: int, deadline: float) -> int:
        await_ms = max(1, int(min(deadline - time.monotonic(), 1.0) * 1000))
        pipeline = [{"$match": {"documentKey._id": "revision"}}]
        with self._guard("wait"), self._db[META].watch(pipeline, max_await_time_ms=await_ms) as s:
            while True:
                # Read after the stream is open, so no write can fall between read and watch.
                current = self.revision()
                if current > since or time.monotonic() >= deadline:
                    return current
                s.try_next()

    # -- writes -----------------------------------------------------------------------

    def write(self, *, writes: Sequence[Write]) -> int:
        for write in writes:
            check_write(write)
            if write.document is not None and any(f in write.document for f in _RESERVED):
                raise ValueError(f"{write.collection}/{write.key}: fields {_RESERVED} are ours")
        if not writes:
            return self.revision()
        with self._guard("write"):
            if self._transactions:
                with self._client.start_session() as session:
                    revision = session.with_transaction(lambda s: self._commit(writes, s))
            else:
                with self._write_lock:
                    revision = self._commit(writes, None)
        with self._changed:
            self._generation += 1
            self._changed.notify_all()
        log.debug("committed %d write(s), revision %d", len(writes), revision)
        return revision

    def _commit(self, writes: Sequence[Write], session: ClientSession | None) -> int:
        before = self._check(writes, session)
        counter = self._db[META].find_one_and_update(
            {"_id": "revision"},
            {"$inc": {"value": len(writes)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert counter is not None  # an upsert returning the document after it
        top = int(counter["value"])
        first = top - len(writes) + 1
        now = datetime.now(UTC)
        # Changes go in before the documents: on a standalone server an undone batch then
        # leaves harmless notifications, never a revision without its change.
        self._db[CHANGES].insert_many(
            [
                {
                    "_id": first + i,
                    "collection": w.collection,
                    "key": w.key,
                    "op": "delete" if w.op == "delete" else "put",
                    "ts": now,
                }
                for i, w in enumerate(writes)
            ],
            session=session,
        )
        try:
            for i, write in enumerate(writes):
                self._apply(write, first + i, session)
        except BaseException:
            if session is None:
                self._undo(before)
            raise
        return top

    def _check(
        self, writes: Sequence[Write], session: ClientSession | None
    ) -> dict[tuple[str, str], Document | None]:
        """Raise DuplicateKey/MissingKey for the batch; return what each key held before."""
        keys: dict[str, set[str]] = {}
        for write in writes:
            keys.setdefault(write.collection, set()).add(write.key)
        before: dict[tuple[str, str], Document | None] = {}
        for collection, names in keys.items():
            found = self._db[collection].find({"_id": {"$in": sorted(names)}}, session=session)
            stored = {str(doc["_id"]): doc for doc in found}
            before.update({(collection, key): stored.get(key) for key in names})
        exists = {ident: doc is not None for ident, doc in before.items()}
        for write in writes:
            ident = (write.collection, write.key)
            if write.op == "create" and exists[ident]:
                raise DuplicateKey(write.collection, write.key)
            if write.op in ("update", "delete") and not exists[ident]:
                raise MissingKey(write.collection, write.key)
            exists[ident] = write.op != "delete"
        return before

    def _apply(self, write: Write, revision: int, session: ClientSession | None) -> None:
        collection = self._db[write.collection]
        if write.op == "delete":
            if collection.delete_one({"_id": write.key}, session=session).deleted_count == 0:
                raise MissingKey(write.collection, write.key)
            return
        stored = {**_canonical(write.document), "_id": write.key, "_revision": revision}
        if write.op == "create":
            try:
                collection.insert_one(stored, session=session)
            except DuplicateKeyError as exc:
                raise DuplicateKey(write.collection, write.key) from exc
        elif write.op == "update":
            found = collection.replace_one({"_id": write.key}, stored, session=session)
            if found.matched_count == 0:
                raise MissingKey(write.collection, write.key)
        else:
            collection.replace_one({"_id": write.key}, stored, upsert=True, session=session)

    def _undo(self, before: dict[tuple[str, str], Document | None]) -> None:
        """Put back what a failed standalone batch had already changed."""
        try:
            for (collection, key), stored in before.items():
                if stored is None:
                    self._db[collection].delete_one({"_id": key})
                else:
                    self._db[collection].replace_one({"_id": key}, stored, upsert=True)
        except PyMongoError:
            log.exception("could not undo a failed batch; the store may hold part of it")

    def close(self) -> None:
        self._client.close()
        with self._changed:
            self._changed.notify_all()

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn driver failures (server down, timeout, auth) into StoreUnavailable."""
        try:
            yield
        except PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB {self.database}: {action} failed: {exc}") from exc
