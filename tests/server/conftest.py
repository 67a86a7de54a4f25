"""Fixtures for `lucid.server` tests: a scratch config whose token comes from nowhere yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from lucid.server import TOKEN_ENV, ServeConfig


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServeConfig:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    return ServeConfig(
        store_url=f"sqlite://{tmp_path / 'lucid.db'}", data_dir=tmp_path / "data", xds_port=0
    )
