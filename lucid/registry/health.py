"""How check results move an instance between healthy, degraded, unhealthy and unknown.

This module is the registry's health state machine and nothing else: no clock, no I/O, so
every transition is a plain function of (state, check result, thresholds) and is tested
as such. The checker feeds it one `CheckResult` per scheduled check (a check is up to
`retries` attempts, see `lucid.registry.checker`); the counts here are of checks.

    pass: successes + 1, failures = 0;
          healthy once successes >= successThreshold, else the status stays as it is
    fail: failures + 1, successes = 0;
          unhealthy once failures >= failureThreshold, else
          healthy or degraded -> degraded; unknown stays unknown; unhealthy stays unhealthy

`degraded` therefore means precisely: the instance was healthy, and its latest checks have
failed fewer than `failureThreshold` times in a row (or it has since passed fewer than
`successThreshold` in a row). Envoy gets it as DEGRADED: used only when too few healthy
hosts are left, so traffic moves away at the first failure without dropping the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from lucid.models.registration import HealthCheckConfig

Health = Literal["healthy", "unhealthy", "unknown", "degraded"]
HEALTH_VALUES: tuple[Health, ...] = ("healthy", "unhealthy", "unknown", "degraded")


@dataclass(frozen=True)
class CheckResult:
    """One scheduled check: passed if any of its attempts passed."""

    passed: bool
    checked_at: datetime
    response_ms: float | None = None  # of the last attempt that got an answer
    error: str | None = None  # why the last failed attempt failed
    attempts: int = 1
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthState:
    status: Health
    since: datetime  # when `status` was entered (HealthStatus.timestamp)
    last_check: datetime | None = None
    successes: int = 0
    failures: int = 0
    response_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def initial(now: datetime) -> HealthState:
    return HealthState(status="unknown", since=now)


def record(state: HealthState, result: CheckResult, config: HealthCheckConfig) -> HealthState:
    """The state after one check."""
    if result.passed:
        successes, failures = state.successes + 1, 0
        status: Health = "healthy" if successes >= config.successThreshold else state.status
    else:
        successes, failures = 0, state.failures + 1
        if failures >= config.failureThreshold:
            status = "unhealthy"
        elif state.status in ("healthy", "degraded"):
            status = "degraded"
        else:
            status = state.status
    return replace(
        state,
        status=status,
        since=result.checked_at if status != state.status else state.since,
        last_check=result.checked_at,
        successes=successes,
        failures=failures,
        response_ms=result.response_ms,
        error=None if result.passed else result.error,
        details={"attempts": result.attempts, **result.details},
    )


def _stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def to_document(state: HealthState) -> dict[str, Any]:
    """The state as a spec HealthStatus (JSON-ready; absent values left out)."""
    doc: dict[str, Any] = {
        "status": state.status,
        "timestamp": _stamp(state.since),
        "lastCheck": _stamp(state.last_check),
        "consecutiveFailures": state.failures,
        "consecutiveSuccesses": state.successes,
        "responseTime": None if state.response_ms is None else round(state.response_ms, 3),
        "error": state.error,
        "details": state.details or None,
    }
    return {k: v for k, v in doc.items() if v is not None}


def from_document(doc: Any, *, fallback: datetime) -> HealthState:
    """A stored HealthStatus back as a state (a restart resumes where checks left off)."""
    if not isinstance(doc, dict) or doc.get("status") not in HEALTH_VALUES:
        return initial(fallback)

    def count(name: str) -> int:
        value = doc.get(name)
        return value if isinstance(value, int) and value >= 0 else 0

    response = doc.get("responseTime")
    details = doc.get("details")
    return HealthState(
        status=doc["status"],
        since=_parse(doc.get("timestamp")) or fallback,
        last_check=_parse(doc.get("lastCheck")),
        successes=count("consecutiveSuccesses"),
        failures=count("consecutiveFailures"),
        response_ms=float(response) if isinstance(response, int | float) else None,
        error=doc.get("error") if isinstance(doc.get("error"), str) else None,
        details=details if isinstance(details, dict) else {},
    )
