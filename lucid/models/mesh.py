"""Spec section 4, service mesh models: traffic and security policies between services.

Both name a source and a destination selector (a service, a glob, `cluster:X` or
`plane:X`) and an ordered list of rules. A policy with no rules would do nothing, so it is
refused; a security rule that requires a role or authentication must say which.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from lucid.models.common import (
    HTTP_METHODS,
    NAME_PATTERN,
    Headers,
    HttpMethod,
    PathMatch,
    Priority,
    Selector,
    SpecModel,
    rule_error,
)
from lucid.models.parameters import CircuitBreakerConfig
from lucid.models.rules import TrafficRule

PolicyName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=253)]
Namespace = Annotated[str, Field(pattern=NAME_PATTERN, max_length=63)]
# A permission: `METHOD`, `METHOD:/path` (path may end in `*`), `*:/path` or `port:N`.
_METHODS = "|".join(HTTP_METHODS)
Permission = Annotated[
    str, Field(pattern=rf"^((\*|{_METHODS})(:/[A-Za-z0-9/_.~%-]*\*?)?|port:[0-9]{{1,5}})$")
]

__all__ = [
    "CircuitBreakerConfig",
    "SecurityPolicy",
    "SecurityRule",
    "TrafficPolicy",
    "TrafficRule",
]


class TrafficPolicy(SpecModel):
    name: PolicyName
    source: Selector
    destination: Selector
    rules: Annotated[list[TrafficRule], Field(min_length=1)]
    priority: Priority = 100
    enabled: bool = True
    namespace: Namespace = "default"
    labels: dict[str, str] | None = None


# Lucid extension: where a JWT's signing keys come from (the spec names none).
JwksUri = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$")]


def _jwks_error(text: str) -> str | None:
    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"jwks must be a JSON Web Key Set: {exc}"
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        return 'jwks must be a JSON object with a "keys" list'
    if not document["keys"] or not all(isinstance(k, dict) for k in document["keys"]):
        return 'the "keys" of jwks must be a non-empty list of JSON objects'
    return None


class JwtConfig(SpecModel):
    issuer: Annotated[str, Field(min_length=1)] | None = None
    audience: str | None = None
    requiredClaims: dict[str, Any] | None = None
    # Lucid extensions: the key set, fetched from `jwksUri` or given inline (`jwks`, JSON);
    # with neither, it is fetched from <issuer>/.well-known/jwks.json.
    jwksUri: JwksUri | None = None
    jwks: str | None = None

    @model_validator(mode="after")
    def _one_key_source(self) -> JwtConfig:
        if self.jwks is not None and self.jwksUri is not None:
            raise rule_error("jwks", "give jwksUri or jwks, not both", self.jwksUri)
        if self.jwks is not None:
            problem = _jwks_error(self.jwks)
            if problem is not None:
                raise rule_error("jwks", problem, self.jwks[:80])
        return self


class ApiKeys(SpecModel):
    """Lucid extension: the keys the api-key method accepts, read from one header."""

    header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")] = "x-api-key"
    keys: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class SecurityAuthentication(SpecModel):
    required: bool = True
    methods: list[Literal["jwt", "mtls", "api-key", "oauth2"]] | None = None
    jwt: JwtConfig | None = None
    apiKeys: ApiKeys | None = None

    @model_validator(mode="after")
    def _jwt_needs_issuer(self) -> SecurityAuthentication:
        if self.methods and "jwt" in self.methods and (self.jwt is None or not self.jwt.issuer):
            raise rule_error("jwt.issuer", "the jwt method needs jwt.issuer", None)
        return self


class SecurityAuthorization(SpecModel):
    roles: list[Annotated[str, Field(min_length=1)]] | None = None
    permissions: list[Permission] | None = None
    resourceAccess: dict[str, Any] | None = None


class SecurityRuleMatch(SpecModel):
    headers: Headers | None = None
    path: PathMatch | None = None
    method: HttpMethod | None = None
    sourceLabels: dict[str, str] | None = None


class SecurityRule(SpecModel):
    action: Literal["allow", "deny", "require-auth", "require-mtls", "require-role"]
    authentication: SecurityAuthentication | None = None
    authorization: SecurityAuthorization | None = None
    match: SecurityRuleMatch | None = None

    @model_validator(mode="after")
    def _action_has_what_it_needs(self) -> SecurityRule:
        if self.action == "require-role" and not (self.authorization and self.authorization.roles):
            raise rule_error("authorization.roles", "require-role needs at least one role", None)
        if self.action == "require-auth" and not (
            self.authentication and self.authentication.methods
        ):
            raise rule_error(
                "authentication.methods", "require-auth needs at least one method", None
            )
        return self


class SecurityPolicy(SpecModel):
    name: PolicyName
    source: Selector
    destination: Selector
    rules: Annotated[list[SecurityRule], Field(min_length=1)]
    priority: Priority = 100
    enabled: bool = True
    namespace: Namespace = "default"
