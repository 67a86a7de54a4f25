"""What only the MongoDB backend promises: the spec's indexes and plain stored documents.

These run when LUCID_TEST_MONGODB_URI names a server, each in a database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lucid.store import COLLECTIONS, Write
from lucid.store.mongo import CHANGES, META, MongoStore

POLICIES = "service_mesh_policies"


@pytest.fixture
def store(mongodb_uri: str, mongo_database: str) -> Iterator[MongoStore]:
    opened = MongoStore(mongodb_uri, database=mongo_database)
    yield opened
    opened.close()


@pytest.fixture
def raw(mongodb_uri: str, mongo_database: str) -> Iterator[Any]:
    """The test's database through a plain pymongo client, to look behind the store."""
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongodb_uri, serverSelectionTimeoutMS=3000
    )
    yield client[mongo_database]
    client.close()


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
def test_each_collection_gets_the_spec_indexes(store: MongoStore, raw: Any, name: str) -> None:
    spec = COLLECTIONS[name]
    indexes = {
        tuple(info["key"]): info.get("unique", False)
        for info in raw[name].index_information().values()
    }
    assert indexes[((spec.key, 1),)] is True
    for field in spec.indexes:
        assert indexes[((field, 1),)] is False
    assert len(indexes) == 2 + len(spec.indexes)  # and _id


def test_opening_twice_keeps_the_indexes_and_the_revision(
    store: MongoStore, mongodb_uri: str, mongo_database: str
) -> None:
    store.write(writes=[Write("put", POLICIES, "a", {"name": "a"})])
    again = MongoStore(mongodb_uri, database=mongo_database)
    try:
        assert again.revision() == 1
    finally:
        again.close()


def test_documents_are_stored_with_their_key_as_id(store: MongoStore, raw: Any) -> None:
    store.write(writes=[Write("put", POLICIES, "a", {"name": "a", "priority": 3})])
    assert raw[POLICIES].find_one({"name": "a"}) == {
        "_id": "a",
        "_revision": 1,
        "name": "a",
        "priority": 3,
    }
    assert raw[META].find_one({"_id": "revision"})["value"] == 1
    assert raw[CHANGES].find_one({"_id": 1})["key"] == "a"


def test_documents_using_the_stores_own_fields_are_rejected(store: MongoStore) -> None:
    with pytest.raises(ValueError, match="_id"):
        store.write(writes=[Write("put", POLICIES, "a", {"name": "a", "_id": "x"})])


def test_a_failure_while_writing_leaves_no_document_changed(
    store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write(writes=[Write("put", POLICIES, "kept", {"name": "kept", "priority": 1})])
    calls = 0
    apply = MongoStore._apply

    def fail_second(self: MongoStore, write: Write, revision: int, session: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        apply(self, write, revision, session)

    monkeypatch.setattr(MongoStore, "_apply", fail_second)
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
