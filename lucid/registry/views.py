"""What the API shows of a registration: the stored document with the live state laid over.

Heartbeats, check counts and response times are kept in memory (`lucid.registry.registry`
says why), so a read joins the two: the manifest's `status` gets the live `health`,
`lastHealthCheck`, `lastHeartbeat` and the lease's TTL left, and never the token hash.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lucid.manifests import to_manifest
from lucid.models import HealthStatus
from lucid.registry.events import stamp
from lucid.registry.health import from_document, to_document
from lucid.registry.registry import EXPIRED, KIND, Registry
from lucid.store import Record


def view(registry: Registry, stored: Record) -> dict[str, Any]:
    """The manifest of a registration, with live heartbeat, health and TTL left."""
    out = to_manifest(KIND, stored)
    status: dict[str, Any] = out.setdefault("status", {})
    stored_lease = status.pop("lease", None)
    live = registry.live_health(stored.key)
    if live is not None and status.get("status") != EXPIRED:
        status["health"] = to_document(live)
        if live.last_check is not None:
            status["lastHealthCheck"] = stamp(live.last_check)
    lease = registry.leases.get(stored.key)
    if lease is not None:
        remaining = registry.leases.remaining(lease)
        status["lastHeartbeat"] = stamp(lease.renewed_at)
        status["lease"] = {
            "ttl": lease.ttl,
            "remaining": round(remaining, 1),
            "expiresAt": stamp(registry.now() + timedelta(seconds=remaining)),
        }
    elif stored_lease is not None:
        status["lease"] = {"ttl": stored.document.get("ttl"), "remaining": 0}
    return out


def health_of(registry: Registry, stored: Record) -> dict[str, Any]:
    """The registration's HealthStatus; an expired one is `unknown` (no longer checked)."""
    registered = _parse(stored.document.get("registeredAt")) or registry.now()
    state = registry.live_health(stored.key) or from_document(
        stored.document.get("health"), fallback=registered
    )
    document = to_document(state)
    if stored.document.get("status") == EXPIRED:
        document["status"] = "unknown"
        document["details"] = {**document.get("details", {}), "registration": EXPIRED}
    return HealthStatus.model_validate(document).model_dump(mode="json", exclude_none=True)


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
