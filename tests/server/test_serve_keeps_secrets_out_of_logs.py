"""Log lines never carry the token, a bearer header or a store password."""

from __future__ import annotations

import logging

from lucid.server import RedactSecrets, redacted_url


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)


def test_a_bearer_header_and_a_known_secret_are_masked():
    entry = record("got %s and %s", "Authorization: Bearer abc.DEF-123", "s3cr3t-token")

    RedactSecrets(["s3cr3t-token"]).filter(entry)

    assert entry.getMessage() == "got Authorization: Bearer <redacted> and <redacted>"


def test_a_line_without_secrets_is_left_alone():
    entry = record("listening on %s:%d", "127.0.0.1", 18080)

    RedactSecrets(["s3cr3t-token"]).filter(entry)

    assert entry.args == ("127.0.0.1", 18080)


def test_a_store_url_loses_its_password_but_keeps_the_rest():
    url = "mongodb://lucid:hunter2@db.example:27017/lucid?replicaSet=rs0"

    assert redacted_url(url) == "mongodb://lucid:***@db.example:27017/lucid?replicaSet=rs0"
    assert redacted_url("sqlite:///var/lib/lucid.db") == "sqlite:///var/lib/lucid.db"
