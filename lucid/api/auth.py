"""Bearer-token check for writes: reads are open, every POST/PUT/DELETE needs the token.

One shared token is enough for an API that binds loopback by default and that operators
reach with `lucid`; the comparison is constant-time (`hmac.compare_digest`) so the token
cannot be guessed byte by byte from response times. The token is never logged, never
echoed, and never part of an error message: a wrong token and a missing one get the same
kind of answer. `/v1/services` also takes the registration and per-service tokens: see
`lucid.api.registry_routes`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request

from lucid.errors import Unauthorized

_SCHEME = "bearer"


def bearer_guard(token: str) -> Callable[[Request], None]:
    """A FastAPI dependency that raises Unauthorized unless the request carries `token`."""
    if not token:
        raise ValueError("the API token must not be empty")
    expected = token.encode("utf-8")

    def require_token(request: Request) -> None:
        if not hmac.compare_digest(bearer_token(request).encode("utf-8"), expected):
            raise Unauthorized("the bearer token is not valid")

    return require_token


def bearer_token(request: Request) -> str:
    """The token of the request's `Authorization: Bearer` header; Unauthorized without one."""
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthorized("writes need an 'Authorization: Bearer <token>' header")
    scheme, _, presented = header.strip().partition(" ")
    if scheme.lower() != _SCHEME or not presented.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return presented.strip()
