"""Documents in, documents out: get, put, list and the filters on indexed fields."""

from __future__ import annotations

from typing import Any

import pytest

from lucid.store import COLLECTIONS, DuplicateKey, MissingKey, Store, Write


def policy(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": "traffic", "source": "web", "destination": "api", **fields}


def put(store: Store, collection: str, *documents: dict[str, Any]) -> int:
    key = COLLECTIONS[collection].key
    return store.write(writes=[Write("put", collection, d[key], d) for d in documents])


# Two distinct values per indexed field, of the type the spec gives it.
SAMPLES: dict[str, tuple[Any, Any]] = {
    "priority": (10, 20),
    "enabled": (True, False),
    "ttl": (30, 3600),
    "tags": ({"team": "core", "env": "prod"}, {"env": "dev"}),
    "lastHealthCheck": ("2025-01-10T10:00:00Z", "2025-01-10T11:00:00Z"),
}
INDEXED = [(spec.name, field) for spec in COLLECTIONS.values() for field in spec.indexes]


def test_get_of_a_missing_key_returns_none(store: Store) -> None:
    assert store.get(collection="service_mesh_policies", key="nope") is None


def test_put_then_get_returns_the_document_and_its_revision(store: Store) -> None:
    revision = put(store, "service_mesh_policies", policy("p1", priority=5))
    record = store.get(collection="service_mesh_policies", key="p1")
    assert record is not None
    assert (record.collection, record.key, record.revision) == (
        "service_mesh_policies",
        "p1",
        revision,
    )
    assert record.document == policy("p1", priority=5)


def test_documents_round_trip_exactly(store: Store) -> None:
    document = {
        "serviceId": "svc-ü",
        "serviceName": "Zürich ✓ 日本",
        "endpoint": {"host": "10.0.0.1", "port": 8080, "weights": [1, 2.5, None]},
        "metadata": {},
        "healthy": False,
        "big": 2**53 + 1,
        "ratio": 0.1,
        "notes": 'line\nbreak "quoted" \\ slash',
    }
    put(store, "service_registry", document)
    record = store.get(collection="service_registry", key="svc-ü")
    assert record is not None
    assert record.document == document


def test_put_replaces_the_whole_document(store: Store) -> None:
    put(store, "service_mesh_policies", policy("p1", priority=5, labels={"a": "1"}))
    put(store, "service_mesh_policies", policy("p1", priority=6))
    record = store.get(collection="service_mesh_policies", key="p1")
    assert record is not None and record.document == policy("p1", priority=6)


def test_update_bumps_the_record_revision(store: Store) -> None:
    first = put(store, "service_mesh_policies", policy("p1"))
    second = store.write(
        writes=[Write("update", "service_mesh_policies", "p1", policy("p1", priority=1))]
    )
    record = store.get(collection="service_mesh_policies", key="p1")
    assert second > first
    assert record is not None and record.revision == second


def test_create_of_existing_key_fails_and_writes_nothing(store: Store) -> None:
    revision = put(store, "service_mesh_policies", policy("p1", priority=1))
    with pytest.raises(DuplicateKey) as raised:
        store.write(writes=[Write("create", "service_mesh_policies", "p1", policy("p1"))])
    assert (raised.value.collection, raised.value.key) == ("service_mesh_policies", "p1")
    record = store.get(collection="service_mesh_policies", key="p1")
    assert record is not None and record.document == policy("p1", priority=1)
    assert store.revision() == revision


@pytest.mark.parametrize("op", ["update", "delete"])
def test_update_or_delete_of_missing_key_fails_with_missing_key(store: Store, op: str) -> None:
    document = None if op == "delete" else policy("ghost")
    with pytest.raises(MissingKey) as raised:
        store.write(writes=[Write(op, "service_mesh_policies", "ghost", document)])  # type: ignore[arg-type]
    assert raised.value.key == "ghost"
    assert store.revision() == 0


def test_delete_removes_the_document(store: Store) -> None:
    put(store, "service_mesh_policies", policy("p1"))
    store.write(writes=[Write("delete", "service_mesh_policies", "p1")])
    assert store.get(collection="service_mesh_policies", key="p1") is None
    assert store.list(collection="service_mesh_policies") == []


def test_list_is_ordered_by_key(store: Store) -> None:
    put(store, "service_mesh_policies", *(policy(n) for n in ["b", "c", "a", "B", "aa"]))
    keys = [r.key for r in store.list(collection="service_mesh_policies")]
    assert keys == ["B", "a", "aa", "b", "c"]


def test_list_limit_keeps_the_first_keys(store: Store) -> None:
    put(store, "service_mesh_policies", *(policy(n) for n in ["c", "a", "b"]))
    assert [r.key for r in store.list(collection="service_mesh_policies", limit=2)] == ["a", "b"]
    assert store.list(collection="service_mesh_policies", limit=0) == []


@pytest.mark.parametrize(("collection", "field"), INDEXED, ids=[f"{c}.{f}" for c, f in INDEXED])
def test_list_filters_on_each_indexed_field(store: Store, collection: str, field: str) -> None:
    key = COLLECTIONS[collection].key
    one, other = SAMPLES.get(field, ("alpha", "beta"))
    put(
        store,
        collection,
        *({key: k, field: v} for k, v in [("k1", one), ("k2", other), ("k3", one)]),
    )
    matched = store.list(collection=collection, where={field: one})
    assert [r.key for r in matched] == ["k1", "k3"]
    assert [r.key for r in store.list(collection=collection, where={field: other})] == ["k2"]
    assert matched[0].document == {key: "k1", field: one}


def test_filter_on_an_object_field_ignores_key_order(store: Store) -> None:
    event = {"eventId": "e1", "tags": {"env": "prod", "team": "core"}}
    put(store, "event_stream", event)
    found = store.list(collection="event_stream", where={"tags": {"team": "core", "env": "prod"}})
    assert [r.key for r in found] == ["e1"]
    assert store.list(collection="event_stream", where={"tags": {"env": "prod"}}) == []


def test_filter_on_the_key_field_finds_one_document(store: Store) -> None:
    put(store, "service_mesh_policies", policy("a"), policy("b"))
    assert [r.key for r in store.list(collection="service_mesh_policies", where={"name": "b"})] == [
        "b"
    ]


def test_filters_on_several_fields_must_all_match(store: Store) -> None:
    put(
        store,
        "service_mesh_policies",
        policy("a", priority=1, enabled=True),
        policy("b", priority=1, enabled=False),
        policy("c", priority=2, enabled=True),
    )
    found = store.list(collection="service_mesh_policies", where={"priority": 1, "enabled": True})
    assert [r.key for r in found] == ["a"]


def test_filters_compare_booleans_and_numbers_by_type(store: Store) -> None:
    put(
        store,
        "service_mesh_policies",
        policy("int", priority=10, enabled=True),
        policy("str", priority="10", enabled=False),
        policy("none"),
    )

    def keys(**where: Any) -> list[str]:
        return [r.key for r in store.list(collection="service_mesh_policies", where=where)]

    assert keys(priority=10) == ["int"]
    assert keys(priority="10") == ["str"]
    assert keys(enabled=True) == ["int"]
    assert keys(enabled=False) == ["str"]
    assert keys(enabled=None) == ["none"]
