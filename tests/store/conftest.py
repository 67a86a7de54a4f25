"""Every Store backend behind one fixture, so the contract suite runs against each of them.

Like kopf's ALL_STORAGES: SQLite always runs (a fresh file per test); MongoDB runs when
LUCID_TEST_MONGODB_URI names a reachable server, each test in its own database, dropped
afterwards. `store` opens one store; `reopen` opens another store on the same data at each
call, for restart and second-replica tests. Both stand alone (they need only pytest's own
fixtures), so other suites can import them: `from tests.store.conftest import store`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lucid.store import SQLiteStore, Store

MONGODB_URI_ENV = "LUCID_TEST_MONGODB_URI"
ALL_STORAGES = ["sqlite", "mongo"]

Opener = Callable[[], Store]


def require_mongodb_uri() -> str:
    uri = os.environ.get(MONGODB_URI_ENV)
    if not uri:
        pytest.skip(f"{MONGODB_URI_ENV} is not set: MongoDB tests need a reachable server")
    return uri


@contextlib.contextmanager
def scratch_database(uri: str) -> Iterator[str]:
    """A database name no other test uses; dropped afterwards."""
    import pymongo

    name = f"lucid_test_{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=3000
        )
        try:
            client.drop_database(name)
        finally:
            client.close()


@contextlib.contextmanager
def backend(name: str, tmp_path: Path) -> Iterator[Opener]:
    """An opener of stores on one backend's fresh data; closes what it opened, then cleans up."""
    opened: list[Store] = []
    with contextlib.ExitStack() as cleanup:
        if name == "sqlite":
            path = tmp_path / "lucid.db"

            def open_one() -> Store:
                return SQLiteStore(path)
        else:
            from lucid.store.mongo import MongoStore

            uri = require_mongodb_uri()
            database = cleanup.enter_context(scratch_database(uri))

            def open_one() -> Store:
                return MongoStore(uri, database=database)

        def tracked() -> Store:
            opened.append(open_one())
            return opened[-1]

        def close_all() -> None:
            for store in opened:
                store.close()

        cleanup.callback(close_all)
        yield tracked


@pytest.fixture(params=ALL_STORAGES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with backend(request.param, tmp_path) as open_store:
        yield open_store()


@pytest.fixture(params=ALL_STORAGES)
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    with backend(request.param, tmp_path) as open_store:
        yield open_store


@pytest.fixture
def mongodb_uri() -> str:
    return require_mongodb_uri()


@pytest.fixture
def mongo_database(mongodb_uri: str) -> Iterator[str]:
    with scratch_database(mongodb_uri) as name:
        yield name
