"""Service tokens: the credential an instance gets once, at registration, to speak for itself.

A service token is 32 random bytes (URL-safe base64) with a `lst_` prefix, so a leaked one
is recognisable in a log or a repository scan. Only its SHA-256 is stored (in the
registration's `lease.tokenHash`): a 256-bit random secret needs no slow hash, and the
stored form cannot be presented back. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "lst_"
_HASH = "sha256:"


def issue() -> tuple[str, str]:
    """A new token and the hash to store; the token itself is shown once, then forgotten."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return _HASH + hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored: object) -> bool:
    return isinstance(stored, str) and hmac.compare_digest(digest(token), stored)


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time equality of a presented bearer token and a configured one."""
    return bool(expected) and hmac.compare_digest(
        presented.encode("utf-8"), expected.encode("utf-8")
    )
