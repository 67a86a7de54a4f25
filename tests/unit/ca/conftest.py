"""Fixtures for the mesh CA: a clock the test moves by hand, and helpers to read a PEM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

START = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Now is `START` until a test calls `advance`."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())
