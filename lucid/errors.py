"""Every error Lucid Mesh raises, and the LUCID_ERR catalogue from the spec.

One hierarchy, mapped at the edges: the REST API turns an error into an HTTP status and a
JSON body, the CLI into an exit code, the xDS server into a gRPC status. Nothing in here
knows about any of those transports except the default HTTP status each code carries.

    LucidError                      code, message, details, http_status
    ├── ValidationFailed            one or more FieldErrors (field path, value, rule)
    │   └── ManifestError           ... plus the file, document and line they came from
    ├── NotFound                    the named resource does not exist
    ├── Conflict                    the name or id is already taken
    ├── Unauthorized / Forbidden    the caller has no token, or the wrong one
    └── Unavailable                 a store or peer did not answer
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    """The spec's Error Codes section; each member carries its meaning and HTTP status."""

    def __new__(cls, code: str, meaning: str, http_status: int) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        member.http_status = http_status
        return member

    meaning: str
    http_status: int

    # Service discovery
    SERVICE_REGISTRATION_FAILED = ("LUCID_ERR_1001", "Service registration failed", 500)
    SERVICE_NOT_FOUND = ("LUCID_ERR_1002", "Service not found", 404)
    SERVICE_ALREADY_REGISTERED = ("LUCID_ERR_1003", "Service already registered", 409)
    INVALID_SERVICE_CONFIGURATION = ("LUCID_ERR_1004", "Invalid service configuration", 422)
    SERVICE_DISCOVERY_TIMEOUT = ("LUCID_ERR_1005", "Service discovery timeout", 504)
    # Sidecar
    SIDECAR_CONFIGURATION_FAILED = ("LUCID_ERR_1101", "Sidecar configuration failed", 422)
    POLICY_VALIDATION_FAILED = ("LUCID_ERR_1102", "Policy validation failed", 422)
    ROUTING_CONFIGURATION_INVALID = ("LUCID_ERR_1103", "Routing configuration invalid", 422)
    SIDECAR_PROXY_UNAVAILABLE = ("LUCID_ERR_1104", "Sidecar proxy unavailable", 503)
    POLICY_ENFORCEMENT_FAILED = ("LUCID_ERR_1105", "Policy enforcement failed", 500)
    # Service mesh
    TRAFFIC_POLICY_CREATION_FAILED = ("LUCID_ERR_1201", "Traffic policy creation failed", 422)
    CIRCUIT_BREAKER_CONFIGURATION_INVALID = (
        "LUCID_ERR_1202",
        "Circuit breaker configuration invalid",
        422,
    )
    SECURITY_POLICY_VIOLATION = ("LUCID_ERR_1203", "Security policy violation", 403)
    MTLS_CONFIGURATION_FAILED = ("LUCID_ERR_1204", "mTLS configuration failed", 422)
    MESH_CONTROLLER_UNAVAILABLE = ("LUCID_ERR_1205", "Service mesh controller unavailable", 503)
    # Inter-service communication
    MESSAGE_DELIVERY_FAILED = ("LUCID_ERR_1301", "Message delivery failed", 502)
    EVENT_SUBSCRIPTION_FAILED = ("LUCID_ERR_1302", "Event subscription failed", 422)
    MESSAGE_QUEUE_UNAVAILABLE = ("LUCID_ERR_1303", "Message queue unavailable", 503)
    EVENT_STREAM_UNAVAILABLE = ("LUCID_ERR_1304", "Event stream unavailable", 503)
    MESSAGE_TIMEOUT = ("LUCID_ERR_1305", "Message timeout", 504)


@dataclass(frozen=True)
class FieldError:
    """One broken rule: where (dotted field path), what was there, and which rule."""

    code: ErrorCode
    path: str
    value: Any
    rule: str
    # Where the offending value sits in a YAML file, when it came from one.
    file: str | None = None
    document: int | None = None
    line: int | None = None

    def location(self) -> str:
        if self.file is None:
            return ""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.document is not None:
            where += f" (document {self.document})"
        return where

    def describe(self) -> str:
        where = self.location()
        prefix = f"{where}: " if where else ""
        path = self.path or "<document>"
        got = "" if self.value is None else f" (got {_short(self.value)})"
        return f"{prefix}{self.code.value} {path}: {self.rule}{got}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code.value,
            "path": self.path,
            "value": _jsonable(self.value),
            "rule": self.rule,
        }
        if self.file is not None:
            out["file"] = self.file
            out["document"] = self.document
            out["line"] = self.line
        return out


class LucidError(Exception):
    """Base of every error Lucid Mesh raises on purpose."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.http_status = http_status or code.http_status

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "details": self.details}


class ValidationFailed(LucidError):
    """Input broke one or more rules; every broken rule is listed, not just the first."""

    def __init__(self, errors: Sequence[FieldError], *, subject: str = "input") -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one FieldError")
        self.errors: list[FieldError] = list(errors)
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(
            first.code,
            f"{subject} is invalid: {first.path or '<document>'}: {first.rule}{more}",
            details={"errors": [e.as_dict() for e in self.errors]},
        )

    def describe(self) -> str:
        return "\n".join(e.describe() for e in self.errors)


class ManifestError(ValidationFailed):
    """A policy YAML file is unreadable or holds an invalid document."""


class NotFound(LucidError):
    def __init__(self, code: ErrorCode, kind: str, name: str) -> None:
        super().__init__(
            code,
            f"{kind} {name!r} not found",
            details={"kind": kind, "name": name},
            http_status=404,
        )


class Conflict(LucidError):
    def __init__(self, code: ErrorCode, kind: str, name: str, reason: str) -> None:
        super().__init__(
            code,
            f"{kind} {name!r}: {reason}",
            details={"kind": kind, "name": name},
            http_status=409,
        )


class Unauthorized(LucidError):
    """No credentials, or credentials that match no token (HTTP 401)."""

    def __init__(self, message: str = "a valid bearer token is required") -> None:
        super().__init__(ErrorCode.SECURITY_POLICY_VIOLATION, message, http_status=401)


class Forbidden(LucidError):
    """Valid credentials without the right to do this (HTTP 403)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.SECURITY_POLICY_VIOLATION, message, http_status=403)


class Unavailable(LucidError):
    """A dependency (store, upstream) did not answer."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
