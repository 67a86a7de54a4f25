"""The API token comes from the config, else the environment, else a private file."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from lucid.server import TOKEN_ENV, ServeError, resolve_token, token_path


def test_a_missing_token_file_is_created_private_and_reused(config):
    token, origin = resolve_token(config)
    again, _ = resolve_token(config)

    path = token_path(config.data_dir)
    assert origin == str(path)
    assert again == token
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_wins_over_the_file(config, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment")

    assert resolve_token(config) == ("from-the-environment", f"${TOKEN_ENV}")
    assert not token_path(config.data_dir).exists()


def test_the_config_wins_over_the_environment(config, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment")
    configured = dataclasses.replace(config, token="from-the-config")

    token, origin = resolve_token(configured)

    assert token == "from-the-config"
    assert "from-the-config" not in origin


def test_an_empty_token_file_is_an_error_not_an_empty_token(config):
    config.data_dir.mkdir()
    token_path(config.data_dir).write_text("\n")

    with pytest.raises(ServeError, match="is empty"):
        resolve_token(config)
