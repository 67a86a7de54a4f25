"""Requests no backend should accept fail the same way everywhere: ValueError."""

from __future__ import annotations

import pytest

from lucid.store import Store, Write

POLICIES = "service_mesh_policies"


def test_unknown_collection_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown collection"):
        store.get(collection="nope", key="a")
    with pytest.raises(ValueError, match="unknown collection"):
        store.list(collection="nope")
    with pytest.raises(ValueError, match="unknown collection"):
        store.write(writes=[Write("put", "nope", "a", {"name": "a"})])


def test_filter_on_a_field_that_is_not_indexed_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="not an indexed field"):
        store.list(collection=POLICIES, where={"rules": []})


def test_negative_limit_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.list(collection=POLICIES, limit=-1)


def test_a_document_whose_key_field_differs_from_the_key_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="does not match key"):
        store.write(writes=[Write("put", POLICIES, "a", {"name": "b"})])


def test_a_put_without_a_document_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="has no document"):
        store.write(writes=[Write("put", POLICIES, "a")])
