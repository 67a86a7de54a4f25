"""The store: what Lucid Mesh persists, behind one protocol with two backends.

Callers code against `Store` and pick a backend with a URL, so the same `lucid serve` runs
on an embedded SQLite file (the default, no server needed) or on MongoDB (shared by several
replicas): `sqlite:///abs/path.db`, `sqlite:relative.db`, a bare path, `mongodb://...` or
`mongodb+srv://...`. The MongoDB backend is imported only when asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

from lucid.store.base import (
    COLLECTIONS,
    Change,
    ChangeOp,
    CollectionSpec,
    Document,
    DuplicateKey,
    MissingKey,
    Record,
    Store,
    StoreError,
    StoreUnavailable,
    Write,
    WriteOp,
    check_where,
    check_write,
)
from lucid.store.sqlite import SQLiteStore

__all__ = [
    "COLLECTIONS",
    "Change",
    "ChangeOp",
    "CollectionSpec",
    "Document",
    "DuplicateKey",
    "MissingKey",
    "Record",
    "SQLiteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Write",
    "WriteOp",
    "check_where",
    "check_write",
    "data_dir",
    "default_store_url",
    "open_store",
]


def data_dir() -> Path:
    """Where Lucid Mesh keeps its files: `$LUCID_DATA_DIR`, else ~/.local/share/lucid."""
    configured = os.environ.get("LUCID_DATA_DIR")
    base = Path(configured) if configured else Path("~/.local/share/lucid")
    return base.expanduser().absolute()


def default_store_url() -> str:
    return "sqlite://" + quote((data_dir() / "lucid.db").as_posix())


def open_store(url: str) -> Store:
    """Open the store a URL names; ValueError if the URL names no backend we have."""
    if not url.strip():
        raise ValueError("empty store URL")
    scheme, sep, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme in ("mongodb", "mongodb+srv"):
        from lucid.store.mongo import MongoStore  # pymongo is loaded only for MongoDB

        return MongoStore(url)
    if scheme == "sqlite":
        return SQLiteStore(_sqlite_path(url, rest))
    if not sep or "/" in scheme:  # no scheme at all: a file path
        return SQLiteStore(url)
    raise ValueError(
        f"unknown store URL scheme {scheme!r} in {url!r}: use sqlite:///abs/path.db, "
        "sqlite:relative.db, a file path, mongodb://... or mongodb+srv://..."
    )


def _sqlite_path(url: str, rest: str) -> str:
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host:
            raise ValueError(f"{url!r}: a sqlite URL names no host; use sqlite:///abs/path.db")
        rest = slash + path
    if not rest:
        raise ValueError(f"{url!r} names no file")
    return unquote(rest)
