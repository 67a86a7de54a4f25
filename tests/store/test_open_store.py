"""Store URLs: which backend and which file or database each one opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from lucid.store import SQLiteStore, StoreUnavailable, default_store_url, open_store
from lucid.store import mongo as mongo_module


def opened_path(url: str) -> Path:
    store = open_store(url)
    try:
        assert isinstance(store, SQLiteStore)
        return store.path
    finally:
        store.close()


def test_sqlite_url_with_three_slashes_opens_an_absolute_path(tmp_path: Path) -> None:
    assert opened_path(f"sqlite://{tmp_path}/a.db") == tmp_path / "a.db"
    assert (tmp_path / "a.db").is_file()


def test_sqlite_url_without_slashes_opens_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert opened_path("sqlite:sub/rel.db") == Path("sub/rel.db")
    assert (tmp_path / "sub" / "rel.db").is_file()


def test_sqlite_url_path_is_percent_decoded(tmp_path: Path) -> None:
    assert opened_path(f"sqlite://{tmp_path}/with%20space.db") == tmp_path / "with space.db"


def test_a_bare_path_opens_sqlite(tmp_path: Path) -> None:
    assert opened_path(str(tmp_path / "bare.db")) == tmp_path / "bare.db"


def test_the_scheme_is_case_insensitive(tmp_path: Path) -> None:
    assert opened_path(f"SQLite://{tmp_path}/c.db") == tmp_path / "c.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://db/lucid", "unknown store URL scheme 'postgres'"),
        ("sqlite://host/lucid.db", "names no host"),
        ("sqlite:", "names no file"),
        ("", "empty store URL"),
    ],
)
def test_urls_naming_no_backend_are_rejected(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_store(url)


def test_default_url_is_in_lucid_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUCID_DATA_DIR", str(tmp_path / "state"))
    url = default_store_url()
    assert url == f"sqlite://{tmp_path}/state/lucid.db"
    assert opened_path(url) == tmp_path / "state" / "lucid.db"


def test_default_url_falls_back_to_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LUCID_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_store_url() == f"sqlite://{tmp_path}/.local/share/lucid/lucid.db"


def test_an_unreachable_mongodb_raises_store_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mongo_module, "SERVER_TIMEOUT_MS", 50)
    with pytest.raises(StoreUnavailable, match="MongoDB"):
        open_store("mongodb://127.0.0.1:1/lucid")


def test_a_malformed_mongodb_uri_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid MongoDB URI"):
        open_store("mongodb://")
