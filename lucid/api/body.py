"""Request bodies as raw JSON, so that validation runs through the spec models, not FastAPI.

A FastAPI body parameter would validate with pydantic's own error format and never yield a
LUCID code or the field path an operator fixes. Here the body is read (with a size cap, so
a client cannot make the server buffer gigabytes), decoded strictly (no NaN, no trailing
garbage) and handed to `Kind.parse` or `lucid.manifests`, whose errors carry the kind's
code. A body that is not JSON at all fails with the same code, at path "" (the document).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from lucid.errors import ErrorCode, FieldError, ValidationFailed

MAX_BODY_BYTES = 8 * 1024 * 1024


def body_reader(code: ErrorCode) -> Callable[[Request], Awaitable[bytes]]:
    """A FastAPI dependency reading the raw body; too large fails with `code` (HTTP 413)."""

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _too_large(code, int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large(code, size)
            chunks.append(chunk)
        return b"".join(chunks)

    return read_body


def parse_json(raw: bytes, *, code: ErrorCode) -> Any:
    """Decode a JSON body, or raise ValidationFailed (HTTP 400) with `code`."""
    if not raw.strip():
        raise bad_request(code, "", None, "the body is empty; expected a JSON object")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise bad_request(code, "", None, f"the body is not UTF-8: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise bad_request(
            code,
            "",
            None,
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        ) from exc
    except ValueError as exc:
        raise bad_request(code, "", None, f"the body is not valid JSON: {exc}") from exc


def bad_request(code: ErrorCode, path: str, value: Any, rule: str) -> ValidationFailed:
    """A ValidationFailed about the request's shape rather than a model (HTTP 400)."""
    failed = ValidationFailed([FieldError(code, path, value, rule)], subject="request")
    failed.http_status = 400
    return failed


def _too_large(code: ErrorCode, size: int) -> ValidationFailed:
    failed = bad_request(code, "", size, f"the body is larger than {MAX_BODY_BYTES} bytes")
    failed.http_status = 413
    return failed


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
