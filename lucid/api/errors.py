"""Every error the API returns has one JSON shape: `{"error": {"code", "message", "details"}}`.

LucidErrors already carry their code and HTTP status, so mapping them is one function.
Errors raised by the framework itself (an unknown path, a wrong method) are put in the same
envelope so a client never has to parse two formats. Anything unexpected becomes a 500
whose body says only that something failed and gives a reference to find in the server
log: tracebacks, store paths and request headers stay on the server.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lucid.errors import ErrorCode, FieldError, LucidError, ValidationFailed

log = logging.getLogger(__name__)

# The spec has no code for "the request itself is wrong" or "the server broke"; the mesh
# controller's code is the closest for both and says which component answered.
GENERIC_CODE = ErrorCode.MESH_CONTROLLER_UNAVAILABLE


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def lucid_response(exc: LucidError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return JSONResponse(
        error_body(exc.code.value, exc.message, exc.details),
        status_code=exc.http_status,
        headers=headers,
    )


async def _on_lucid_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LucidError)
    if exc.http_status >= 500:
        log.warning("%s: %s", exc.code.value, exc.message)
    return lucid_response(exc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail) if exc.detail else "request failed"
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return JSONResponse(
        error_body(GENERIC_CODE.value, message),
        status_code=exc.status_code,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _on_request_validation(_request: Request, exc: Exception) -> JSONResponse:
    """Path or query parameters FastAPI itself rejected (bodies never reach it)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            GENERIC_CODE,
            ".".join(str(part) for part in error.get("loc", ())),
            error.get("input"),
            str(error.get("msg", "is invalid")),
        )
        for error in exc.errors()
    ]
    failed = ValidationFailed(
        errors or [FieldError(GENERIC_CODE, "", None, "is invalid")], subject="request"
    )
    failed.http_status = 400
    return lucid_response(failed)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LucidError, _on_lucid_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_middleware(CatchAll)


class CatchAll:
    """Turns an exception no handler knew into a 500 with a reference, logged once here.

    A plain ASGI middleware rather than an `Exception` handler: Starlette re-raises after
    such a handler, which would log every failure twice and tear down the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception(
                "unexpected error in %s %s (reference %s)",
                scope.get("method"),
                scope.get("path"),
                reference,
            )
            if started:
                raise
            response = JSONResponse(
                error_body(
                    GENERIC_CODE.value,
                    f"internal error; the server log has the details under reference {reference}",
                    {"reference": reference},
                ),
                status_code=500,
            )
            await response(scope, receive, send)
