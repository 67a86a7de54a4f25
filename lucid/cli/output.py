"""What the CLI prints: tables that fit a terminal, YAML that applies back, errors with codes.

Colour is decided per stream, only when it is a terminal and `NO_COLOR` is unset, so
piped output and CI logs stay plain. Table columns are chosen per kind: the few fields an
operator scans for (a policy's source, destination and actions), not the whole spec.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from lucid.errors import ErrorCode, FieldError

_STYLES = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "dim": "2"}
ACTION_STYLES = {"created": "green", "configured": "yellow", "unchanged": "dim", "deleted": "red"}

Row = list[str]
_CODES = {code.value: code for code in ErrorCode}


def colour_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str, enabled: bool) -> str:
    return f"\033[{_STYLES[style]}m{text}\033[0m" if enabled else text


def table(headers: Sequence[str], rows: Sequence[Row], *, colour: bool) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [paint(line(headers), "bold", colour)]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


def _spec(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest.get("spec")
    return spec if isinstance(spec, dict) else {}


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _actions(rules: Any, limit: int = 3) -> str:
    if not isinstance(rules, list):
        return "-"
    actions = [str(r.get("action", "?")) if isinstance(r, dict) else "?" for r in rules]
    shown = ",".join(actions[:limit])
    return shown + (f",+{len(actions) - limit}" if len(actions) > limit else "")


def _endpoint(spec: dict[str, Any]) -> str:
    ep = spec.get("endpoint")
    if not isinstance(ep, dict):
        return "-"
    return f"{ep.get('protocol', '?')}://{ep.get('host', '?')}:{ep.get('port', '?')}"


def _ago(stamp: Any) -> str:
    """`12s ago` for a timestamp the server sent; `-` when there is none."""
    if not isinstance(stamp, str):
        return "-"
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


def _ttl_left(status: dict[str, Any]) -> str:
    """Seconds until the lease expires; `expired`; `-` for a registration without a lease."""
    if status.get("status") == "expired":
        return "expired"
    lease = status.get("lease")
    if not isinstance(lease, dict) or not isinstance(lease.get("remaining"), int | float):
        return "-"
    return f"{int(lease['remaining'])}s"


def _service_row(m: dict[str, Any]) -> Row:
    s, status = _spec(m), m.get("status") or {}
    return [
        _text(s.get("serviceName")),
        _text(s.get("serviceId")),
        _text(s.get("cluster")),
        _text(s.get("plane")),
        _text(status.get("status")),
        _ago(status.get("lastHealthCheck")),
        _ttl_left(status),
        _endpoint(s),
    ]


def _sidecar_row(m: dict[str, Any]) -> Row:
    s = _spec(m)
    routing: dict[str, Any] = s["routing"] if isinstance(s.get("routing"), dict) else {}
    return [
        _text(s.get("serviceId")),
        _text(routing.get("defaultRoute")),
        str(len(routing.get("routes") or [])),
        str(len(s.get("policies") or [])),
        _text(s.get("version")),
    ]


def _policy_row(m: dict[str, Any]) -> Row:
    s = _spec(m)
    return [
        _text(s.get("name")),
        _text(s.get("source")),
        _text(s.get("destination")),
        _actions(s.get("rules")),
        _text(s.get("priority")),
        _text(s.get("enabled")),
    ]


def _subscription_row(m: dict[str, Any]) -> Row:
    s = _spec(m)
    types = s.get("eventTypes")
    return [
        _text(s.get("subscriberId")),
        ",".join(map(str, types)) if isinstance(types, list) else "-",
        _text(s.get("deliveryMode")),
        _text(s.get("batchSize")),
        _text(s.get("maxRetries")),
    ]


_POLICY = (("NAME", "SOURCE", "DESTINATION", "RULES", "PRIORITY", "ENABLED"), _policy_row)
COLUMNS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], Row]]] = {
    "ServiceRegistration": (
        ("NAME", "SERVICE-ID", "CLUSTER", "PLANE", "STATUS", "LAST-CHECK", "TTL-LEFT", "ENDPOINT"),
        _service_row,
    ),
    "SidecarConfiguration": (
        ("SERVICE-ID", "DEFAULT-ROUTE", "ROUTES", "POLICIES", "VERSION"),
        _sidecar_row,
    ),
    "TrafficPolicy": _POLICY,
    "SecurityPolicy": _POLICY,
    "EventSubscription": (
        ("SUBSCRIBER-ID", "EVENT-TYPES", "MODE", "BATCH-SIZE", "MAX-RETRIES"),
        _subscription_row,
    ),
}


def kind_table(kind_name: str, manifests: Sequence[dict[str, Any]], *, colour: bool) -> str:
    headers, row = COLUMNS[kind_name]
    return table(headers, sorted(row(m) for m in manifests), colour=colour)


def describe_error(error: dict[str, Any]) -> str:
    """One line per broken rule, in the same format `lucid validate` prints locally."""
    try:
        return FieldError(
            _CODES[error["code"]],
            str(error.get("path", "")),
            error.get("value"),
            str(error.get("rule", "")),
            file=error.get("file"),
            document=error.get("document"),
            line=error.get("line"),
        ).describe()
    except (KeyError, ValueError, TypeError):
        return str(error)
