"""The REST API in-process over a real SQLite store in a temporary directory.

Requests go through httpx's ASGI transport (no sockets, no threads of our own), so each
test gets a fresh application and store in milliseconds; sync endpoints still run in the
threadpool, as under uvicorn. `VALID` holds one valid spec object per kind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lucid.api.app import create_app
from lucid.kinds import KINDS, Kind
from lucid.resources import Resources
from lucid.store import SQLiteStore
from tests import builders

TOKEN = "test-token-3f9a1c0d7e5b"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

VALID: dict[str, Any] = {
    "ServiceRegistration": builders.registration,
    "SidecarConfiguration": builders.sidecar,
    "TrafficPolicy": builders.traffic_policy,
    "SecurityPolicy": builders.security_policy,
    "EventSubscription": builders.subscription,
}


def valid(kind: Kind, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = VALID[kind.name](**overrides)
    return document


def kind_params() -> list[Any]:
    return [pytest.param(kind, id=kind.plural) for kind in KINDS]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "lucid.db")
    yield opened
    opened.close()


@pytest.fixture
def resources(store: SQLiteStore) -> Resources:
    return Resources(store)


@pytest.fixture
async def api(resources: Resources) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(resources, token=TOKEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lucid.test") as client:
        yield client


def stored(store: SQLiteStore) -> int:
    """How many documents the store holds, across every collection."""
    from lucid.store import COLLECTIONS

    return sum(len(store.list(collection=name)) for name in COLLECTIONS)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    error: dict[str, Any] = body["error"]
    return error
