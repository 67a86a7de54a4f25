"""Turn pydantic's validation errors into LUCID FieldErrors: code, field path, value, rule.

Paths are dotted with list indexes as numbers (`routing.routes.1.weight`), the way an
operator reads a YAML document. The union tag that pydantic puts into paths of tagged
rules (`rules.0.retry.parameters`) is dropped, and a cross-field rule's own `field` is
appended, so every path points at the value to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from lucid.errors import ErrorCode, FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)
# (field path, the rule action the path runs through if any) -> code
CodeFor = Callable[[str, str | None], ErrorCode]

_RULE_ACTIONS = {
    "allow",
    "deny",
    "redirect",
    "mirror",
    "rate-limit",
    "circuit-break",
    "retry",
    "timeout",
    "weighted-split",
}
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "union_tag_not_found": "action is required",
}


def dotted(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def field_errors(exc: ValidationError, code_for: CodeFor) -> list[FieldError]:
    out: list[FieldError] = []
    for error in exc.errors(include_url=False):
        raw = list(error["loc"])
        # A tagged-union member follows a list index: rules.0.retry.parameters -> rules.0.parameters
        tags = [i for i, part in enumerate(raw) if _is_tag(raw, i)]
        action = str(raw[tags[-1]]) if tags else None
        loc = [part for i, part in enumerate(raw) if i not in tags]
        ctx = error.get("ctx") or {}
        value: Any = error.get("input")
        if error["type"] == "lucid_rule":
            loc.extend(str(ctx["field"]).split("."))
            value = ctx.get("value")
        loc = [int(p) if isinstance(p, str) and p.isdigit() else p for p in loc]
        path = dotted(loc)
        rule = _MESSAGES.get(error["type"], error["msg"])
        if error["type"] == "union_tag_invalid":
            rule = f"unknown action; expected one of {ctx.get('expected_tags')}"
            value = ctx.get("tag", value)
            path = dotted([*loc, "action"]) if not path.endswith("action") else path
        if error["type"] == "union_tag_not_found":
            path = dotted([*loc, "action"])
        if error["type"] in ("missing", "union_tag_not_found"):
            value = None
        out.append(FieldError(code=code_for(path, action), path=path, value=value, rule=rule))
    return out


def validate(model: type[M], data: Any, *, code_for: CodeFor, subject: str | None = None) -> M:
    """Validate `data` as `model`, raising ValidationFailed with every broken rule."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            field_errors(exc, code_for), subject=subject or model.__name__
        ) from exc


def validate_with(adapter: TypeAdapter[Any], data: Any, *, code_for: CodeFor, subject: str) -> Any:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, code_for), subject=subject) from exc


def _is_tag(loc: Sequence[int | str], index: int) -> bool:
    # Only in a list of rules: a route's own `retry` and `timeout` fields are not tags.
    part = loc[index]
    return (
        isinstance(part, str)
        and part in _RULE_ACTIONS
        and index > 1
        and isinstance(loc[index - 1], int)
        and loc[index - 2] == "rules"
    )


def constant(code: ErrorCode) -> CodeFor:
    def code_for(_path: str, action: str | None) -> ErrorCode:
        if action == "circuit-break":
            return ErrorCode.CIRCUIT_BREAKER_CONFIGURATION_INVALID
        return code

    return code_for


def sidecar_code(path: str, action: str | None) -> ErrorCode:
    """Routing problems are 1103, policy problems 1102, mTLS 1204, circuit breakers 1202,
    anything else 1101."""
    if action == "circuit-break":
        return ErrorCode.CIRCUIT_BREAKER_CONFIGURATION_INVALID
    if path.startswith("routing"):
        return ErrorCode.ROUTING_CONFIGURATION_INVALID
    if path.startswith("policies"):
        return ErrorCode.POLICY_VALIDATION_FAILED
    if path.startswith("security.mTLS"):
        return ErrorCode.MTLS_CONFIGURATION_FAILED
    return ErrorCode.SIDECAR_CONFIGURATION_FAILED
