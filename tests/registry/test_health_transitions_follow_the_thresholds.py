"""The health state machine: thresholds, and what `degraded` means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lucid.models import HealthCheckConfig, HealthStatus
from lucid.registry.health import CheckResult, from_document, initial, record, to_document
from tests import builders

START = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def config(**overrides) -> HealthCheckConfig:
    return HealthCheckConfig.model_validate(builders.health_check(**overrides))


def run(outcomes: str, **overrides) -> list[str]:
    """Statuses after each check of `outcomes` ('+' passed, '-' failed), from unknown."""
    settings = config(**overrides)
    state = initial(START)
    seen = []
    for step, outcome in enumerate(outcomes, start=1):
        result = CheckResult(outcome == "+", START + timedelta(seconds=step), 1.5, "boom")
        state = record(state, result, settings)
        seen.append(state.status)
    return seen


@pytest.mark.parametrize(
    ("outcomes", "thresholds", "expected"),
    [
        ("+", {}, ["healthy"]),
        ("++", {"successThreshold": 2}, ["unknown", "healthy"]),
        ("---", {"failureThreshold": 3}, ["unknown", "unknown", "unhealthy"]),
        ("+--", {"failureThreshold": 3}, ["healthy", "degraded", "degraded"]),
        ("+---", {"failureThreshold": 3}, ["healthy", "degraded", "degraded", "unhealthy"]),
        ("+-+", {"failureThreshold": 3}, ["healthy", "degraded", "healthy"]),
        (
            "++-+",
            {"failureThreshold": 3, "successThreshold": 2},
            ["unknown", "healthy", "degraded", "degraded"],
        ),
        ("-+", {"failureThreshold": 1, "successThreshold": 2}, ["unhealthy", "unhealthy"]),
        ("-++", {"failureThreshold": 1, "successThreshold": 2}, ["unhealthy"] * 2 + ["healthy"]),
        ("+-", {"failureThreshold": 1}, ["healthy", "unhealthy"]),
    ],
)
def test_statuses_follow_consecutive_checks(outcomes, thresholds, expected):
    assert run(outcomes, **thresholds) == expected


def test_counts_timestamps_and_errors_are_kept():
    settings = config(failureThreshold=3)
    state = initial(START)
    state = record(state, CheckResult(True, START + timedelta(seconds=1), 2.0), settings)
    failed = CheckResult(False, START + timedelta(seconds=2), 3.0, "HTTP 503, expected 200", 2)
    state = record(state, failed, settings)

    assert (state.successes, state.failures) == (0, 1)
    assert state.since == START + timedelta(seconds=2)  # degraded since this check
    assert state.last_check == START + timedelta(seconds=2)
    assert state.error == "HTTP 503, expected 200"
    assert state.details == {"attempts": 2}


def test_the_stored_form_is_a_spec_health_status_and_reads_back():
    settings = config()
    state = record(initial(START), CheckResult(True, START, 12.5), settings)

    document = to_document(state)

    HealthStatus.model_validate(document)
    assert document["responseTime"] == 12.5
    assert from_document(document, fallback=START) == state


def test_an_unreadable_stored_health_starts_unknown():
    assert from_document({"status": "sideways"}, fallback=START) == initial(START)
