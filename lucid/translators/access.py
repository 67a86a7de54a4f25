"""Who may call a service: every authorization source, as one ordered list of rules.

A destination's inbound authorization comes from four places, and they must resolve the
same way whichever document a rule came from:

- traffic policies whose destination selects this service: their `allow` / `deny` rules;
- security policies whose destination selects this service: `allow`, `deny`,
  `require-auth`, `require-mtls`, `require-role`;
- the service's own sidecar policies of type `auth` (`allow` / `deny`; `conditions` narrow
  them like a rule's match), and its `security.authentication` block;
- plane isolation: a caller from another plane is denied unless a rule allows it.

**Resolution rule.** Rules are evaluated in order of priority, higher first; at equal
priority deny rules come before allow rules (a tie between documents therefore resolves
to deny); the first rule that matches a request decides. A `require-*` rule is a deny rule
whose match includes "and the requirement is not met": an authenticated caller passes
through it to the rules below, an unauthenticated one is denied there. If no rule matches,
a caller known to be from another plane is denied (plane isolation), and then the
sidecar's `security.authorization.policy` decides: `allow-all` allows, `deny-all` denies,
`rbac` (the default) denies if any allow rule targets this service, else allows.
`authorization.enabled: false` turns authorization off: no rule, fallback or plane
isolation decides, but the sidecar's `security.authentication` still applies (`rbac.py`
compiles that rule alone, with the health checks ranked above it).
The sidecar's `security.authentication` (required, methods) is a require rule above every
priority (1001), on the inbound listener only; with mTLS on, its `mtls` method always holds.
mTLS is on when `mtls.mtls_of` says so (the sidecar's `security.mTLS.enabled` given and
true), the rule the callers' clusters follow too.

**Health checks.** Above all of these (HEALTH_CHECK_PRIORITY, 1002), on the inbound listener,
one allow rule lets health checkers (the registry's, and callers' sidecars running the
service's check) make exactly the service's health-check requests (`health_access.py`:
exact path and method; the caller sends no source header). It is a
`control_plane` rule: it never counts as "an allow rule targets this service" for the
`rbac` fallback, and RBAC policy names number the other rules only.

Sources are resolved here, at compile time, with `MeshState.resolve` (`*` alone means any
caller, registered or not). `sourceLabels` keep the sources whose primary registration
carries each label as a metadata field; `destinationLabels` drop the rule when this
service does not carry them. A rule whose match has a `body` is left out (Envoy never sees
the body before deciding; `notes.py` warns). `notes_for` names what cannot be enforced
as written (a require-mtls without mTLS, an api-key method without keys ...).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from lucid.models.mesh import JwtConfig, SecurityAuthentication, SecurityPolicy, SecurityRule
from lucid.models.rules import PolicyRuleMatch, TrafficRuleMatch
from lucid.models.sidecar import SidecarPolicy
from lucid.translators.health_access import health_requests
from lucid.translators.mtls import mtls_of
from lucid.translators.node import HEALTH_CHECKER_ID
from lucid.translators.notes import Note
from lucid.translators.state import MeshState

SERVICE_AUTHENTICATION_PRIORITY = 1001
SERVICE_AUTHENTICATION: Final = "sidecar security.authentication"
HEALTH_CHECK_PRIORITY = 1002
JWT_METHODS = frozenset({"jwt", "oauth2"})


@dataclass(frozen=True, slots=True)
class RequestMatch:
    """What a request must look like; every listed part must hold (AND)."""

    paths: tuple[str, ...] = ()  # `/exact`, `/prefix/*`, `regex:<RE2>`
    methods: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Permission:
    """One of `authorization.permissions`: `METHOD[:/path]`, `*:/path` or `port:N`."""

    method: str | None = None
    path: str | None = None
    port: int | None = None


def permission(text: str) -> Permission:
    if text.startswith("port:"):
        return Permission(port=int(text[len("port:") :]))
    method, _, path = text.partition(":")
    return Permission(method=None if method == "*" else method, path=path or None)


@dataclass(frozen=True, slots=True)
class JwtProvider:
    """One jwt_authn provider; its name is a hash of what defines it, so it is stable."""

    name: str
    issuer: str
    audience: str | None
    jwks_uri: str | None
    jwks: str | None


def provider_of(config: JwtConfig) -> JwtProvider | None:
    if not config.issuer:
        return None
    identity = json.dumps([config.issuer, config.audience, config.jwksUri, config.jwks])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return JwtProvider(f"jwt-{digest}", config.issuer, config.audience, config.jwksUri, config.jwks)


@dataclass(frozen=True, slots=True)
class Authentication:
    """Any one of these proves who the caller is; none at all can never hold."""

    jwt: tuple[str, ...] = ()  # provider names: a token verified by any of them
    peer: bool = False  # an mTLS client certificate
    api_key_header: str | None = None
    api_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessRule:
    """One compiled rule. It matches when sources ∧ request ∧ permissions and, for a plain
    rule, ∧ requirement; for a require rule (`gate`), ∧ ¬requirement. The requirement is
    authentication ∧ claims ∧ roles, each only if given."""

    origin: str
    priority: int
    effect: Literal["allow", "deny"]
    sources: frozenset[str] | None  # None: any caller
    request: RequestMatch = RequestMatch()
    permissions: tuple[Permission, ...] = ()  # any one of them; () = no restriction
    authentication: Authentication | None = None
    claims: tuple[tuple[str, str], ...] = ()  # (provider, JSON of requiredClaims)
    roles: tuple[str, ...] = ()
    role_providers: tuple[str, ...] = ()
    gate: bool = False
    # Providers jwt_authn must see a valid token from (401 when missing) where this applies.
    strict_jwt: tuple[str, ...] = ()
    # Health checkers (the registry's, HEALTH_CHECKER_ID, and callers' sidecars running the
    # check), not a mesh service's app: `sources` is then None.
    control_plane: str | None = None

    @property
    def has_requirement(self) -> bool:
        return self.authentication is not None or bool(self.claims) or bool(self.roles)


def order_key(rule: AccessRule) -> tuple[int, int, str]:
    """Priority (higher first), then deny before allow, then origin (only for stability)."""
    return (-rule.priority, 0 if rule.effect == "deny" else 1, rule.origin)


@dataclass(frozen=True)
class Access:
    """A destination's authorization: rules in evaluation order and the fallback."""

    rules: tuple[AccessRule, ...]
    default_allow: bool
    enabled: bool
    providers: tuple[JwtProvider, ...]
    notes: tuple[Note, ...] = field(default=())


def mtls_enabled(state: MeshState, service: str) -> bool:
    """Whether callers of `service` present mesh certificates (`mtls.mtls_of` decides)."""
    return mtls_of(state, service) is not None


def _labels(state: MeshState, service: str) -> dict[str, str]:
    found = state.service(service)
    metadata = found.primary.registration.metadata if found else None
    extra = (metadata.model_extra if metadata else None) or {}
    return {k: v for k, v in extra.items() if isinstance(v, str)}


def _has_labels(state: MeshState, service: str, wanted: dict[str, str] | None) -> bool:
    labels = _labels(state, service)
    return all(labels.get(k) == v for k, v in (wanted or {}).items())


def _sources(
    state: MeshState, selector: str | None, labels: dict[str, str] | None
) -> frozenset[str] | None:
    if (selector is None or selector == "*") and not labels:
        return None
    names = state.resolve(selector or "*")
    if not labels:
        return names
    return frozenset(n for n in names if _has_labels(state, n, labels))


def _request(*matches: PolicyRuleMatch | TrafficRuleMatch | None) -> RequestMatch:
    paths: list[str] = []
    methods: list[str] = []
    headers: list[tuple[str, str]] = []
    query: list[tuple[str, str]] = []
    for match in matches:
        if match is None:
            continue
        paths += [match.path] if match.path else []
        methods += [match.method] if match.method else []
        headers += sorted((match.headers or {}).items())
        query += sorted((match.query or {}).items())
    return RequestMatch(tuple(paths), tuple(methods), tuple(headers), tuple(query))


def _targets(state: MeshState, selector: str, service: str) -> bool:
    return service in state.resolve(selector)


class _Builder:
    """Collects one destination's rules, providers and notes."""

    def __init__(self, state: MeshState, service: str, inbound: bool) -> None:
        self.state = state
        self.service = service
        self.sidecar = state.sidecar_of_service(service)
        self.mtls = mtls_enabled(state, service)
        self.inbound = inbound
        self.providers: dict[str, JwtProvider] = {}
        self.rules: list[AccessRule] = []
        self.notes: list[Note] = []

    # -- JWT providers ------------------------------------------------------------------

    def _collect_providers(self) -> None:
        for policy in self._security_policies():
            for rule in policy.rules:
                jwt = rule.authentication.jwt if rule.authentication else None
                provider = provider_of(jwt) if jwt else None
                if provider is not None:
                    self.providers[provider.name] = provider

    def _security_policies(self) -> Iterator[SecurityPolicy]:
        yield from self.state.security_to(self.service)

    # -- authentication -----------------------------------------------------------------

    def _authentication(
        self,
        methods: Sequence[str],
        own: JwtProvider | None,
        api_keys: SecurityAuthentication | None,
        where: str,
    ) -> Authentication:
        jwt: tuple[str, ...] = ()
        if JWT_METHODS & set(methods):
            jwt = (own.name,) if own else tuple(sorted(self.providers))
            if not jwt:
                self.notes.append(
                    Note(
                        where,
                        "jwt: no jwt settings target this service, so no token can be verified",
                    )
                )
        keys = api_keys.apiKeys if api_keys is not None else None
        if "api-key" in methods and keys is None:
            self.notes.append(Note(where, "api-key: no apiKeys are given, so no key is accepted"))
        if "mtls" in methods and not self.mtls:
            self.notes.append(
                Note(
                    where,
                    "mtls: this service's sidecar has mTLS off, so no "
                    "caller presents a certificate",
                )
            )
        return Authentication(
            jwt=jwt,
            peer="mtls" in methods,
            api_key_header=keys.header if keys and "api-key" in methods else None,
            api_keys=tuple(keys.keys) if keys and "api-key" in methods else (),
        )

    # -- security policies --------------------------------------------------------------

    def _security_rule(self, policy: SecurityPolicy, index: int, rule: SecurityRule) -> None:
        where = f"securitypolicy {policy.namespace}/{policy.name} rules.{index}"
        match = rule.match
        labels = match.sourceLabels if match else None
        request = RequestMatch(
            paths=(match.path,) if match and match.path else (),
            methods=(match.method,) if match and match.method else (),
            headers=tuple(sorted((match.headers or {}).items())) if match else (),
        )
        authn = rule.authentication
        jwt_config = authn.jwt if authn else None
        own = provider_of(jwt_config) if jwt_config else None
        methods: list[str] = list(authn.methods or []) if authn else []
        if authn is not None and not methods and own is not None:
            methods = ["jwt"]
        authorization = rule.authorization
        roles = tuple(authorization.roles or ()) if authorization else ()
        permissions = (
            tuple(permission(p) for p in (authorization.permissions or ()))
            if (authorization)
            else ()
        )
        authentication: Authentication | None = None
        if authn is not None and authn.required and methods:
            authentication = self._authentication(methods, own, authn, where)
        if rule.action == "require-mtls":
            authentication = Authentication(peer=True)
            if not self.mtls:
                self.notes.append(
                    Note(
                        where,
                        "require-mtls on a service whose sidecar has mTLS "
                        "off: every matching request is denied",
                    )
                )
        claims: tuple[tuple[str, str], ...] = ()
        if own is not None and jwt_config is not None and jwt_config.requiredClaims:
            claims = ((own.name, json.dumps(jwt_config.requiredClaims, sort_keys=True)),)
        role_providers = (own.name,) if own else tuple(sorted(self.providers))
        if roles and not role_providers:
            self.notes.append(
                Note(
                    f"{where}.authorization.roles",
                    "no jwt settings target this service, so no caller has a role",
                )
            )
        gate = rule.action.startswith("require-")
        strict: tuple[str, ...] = ()
        if gate and authentication is not None and set(methods) <= JWT_METHODS:
            strict = authentication.jwt
        elif gate and rule.action == "require-role" and authentication is None:
            strict = role_providers
        self.rules.append(
            AccessRule(
                origin=where,
                priority=policy.priority,
                effect="allow" if rule.action == "allow" else "deny",
                sources=_sources(self.state, policy.source, labels),
                request=request,
                permissions=permissions,
                authentication=authentication,
                claims=claims,
                roles=roles,
                role_providers=role_providers if roles else (),
                gate=gate,
                strict_jwt=strict,
            )
        )

    # -- traffic policies ---------------------------------------------------------------

    def _traffic_rules(self) -> None:
        for policy in self.state.traffic_to(self.service):
            for index, rule in enumerate(policy.rules):
                if rule.action not in ("allow", "deny"):
                    continue
                match = rule.match
                if match and not _has_labels(self.state, self.service, match.destinationLabels):
                    continue
                self.rules.append(
                    AccessRule(
                        origin=f"trafficpolicy {policy.namespace}/{policy.name} rules.{index}",
                        priority=policy.priority,
                        effect="allow" if rule.action == "allow" else "deny",
                        sources=_sources(
                            self.state, policy.source, match.sourceLabels if match else None
                        ),
                        request=_request(match),
                    )
                )

    # -- the sidecar's own auth policies -------------------------------------------------

    def _sidecar_rules(self) -> None:
        if self.sidecar is None:
            return
        for policy in self.sidecar.policies:
            if policy.enabled and policy.type == "auth" and self._applies(policy):
                self._sidecar_policy(policy)

    def _applies(self, policy: SidecarPolicy) -> bool:
        destination = policy.conditions.destination if policy.conditions else None
        return destination is None or _targets(self.state, destination, self.service)

    def _sidecar_policy(self, policy: SidecarPolicy) -> None:
        conditions = policy.conditions
        base = TrafficRuleMatch(
            path=conditions.path if conditions else None,
            method=conditions.method if conditions else None,
            headers=conditions.headers if conditions else None,
        )
        for index, rule in enumerate(policy.rules):
            if rule.action not in ("allow", "deny"):
                continue  # redirect: an inbound route (`inbound_routes`)
            if rule.match is not None and rule.match.body is not None:
                continue  # `notes.py` warns: the body is never seen
            self.rules.append(
                AccessRule(
                    origin=f"sidecar policy {policy.policyId} rules.{index}",
                    priority=policy.priority,
                    effect="allow" if rule.action == "allow" else "deny",
                    sources=_sources(self.state, conditions.source if conditions else None, None),
                    request=_request(base, rule.match),
                )
            )

    def _service_authentication(self) -> None:
        security = self.sidecar.security if self.sidecar else None
        config = security.authentication if security else None
        if not self.inbound or config is None or not config.required or not config.methods:
            return
        if self.mtls and "mtls" in config.methods:
            return  # every inbound caller presents a verified certificate
        where = "sidecar security.authentication.methods"
        self.rules.append(
            AccessRule(
                origin=SERVICE_AUTHENTICATION,
                priority=SERVICE_AUTHENTICATION_PRIORITY,
                effect="deny",
                sources=None,
                authentication=self._authentication(config.methods, None, None, where),
                gate=True,
            )
        )

    def _health_checks(self) -> None:
        requests = health_requests(self.state, self.service) if self.inbound else ()
        if not requests:
            return
        self.rules.append(
            AccessRule(
                origin="health checks",
                priority=HEALTH_CHECK_PRIORITY,
                effect="allow",
                sources=None,
                permissions=tuple(Permission(method=m, path=p) for m, p in requests),
                control_plane=HEALTH_CHECKER_ID,
            )
        )

    def build(self) -> Access:
        self._collect_providers()
        self._health_checks()
        for policy in self._security_policies():
            for index, rule in enumerate(policy.rules):
                self._security_rule(policy, index, rule)
        self._traffic_rules()
        self._sidecar_rules()
        self._service_authentication()
        rules = tuple(sorted(self.rules, key=order_key))
        security = self.sidecar.security if self.sidecar else None
        authorization = security.authorization if security else None
        fallback = authorization.policy if authorization else "rbac"
        enabled = authorization.enabled if authorization else True
        if fallback == "rbac":
            default_allow = not any(r.effect == "allow" and r.control_plane is None for r in rules)
        else:
            default_allow = fallback == "allow-all"
        return Access(
            rules=rules,
            default_allow=default_allow,
            enabled=enabled,
            providers=tuple(self.providers[name] for name in sorted(self.providers)),
            notes=tuple(sorted(set(self.notes), key=lambda n: (n.path, n.message))),
        )


def access(state: MeshState, service: str, *, inbound: bool = True) -> Access:
    """The ordered authorization rules of `service` (see the module docstring), built once
    per state: the listener, its filters and its local clusters all read them."""
    key = ("access", service, inbound)
    found = state._memo.get(key)
    if found is None:
        found = state._memo[key] = _Builder(state, service, inbound).build()
    assert isinstance(found, Access)
    return found


def notes_for(state: MeshState, service: str) -> tuple[Note, ...]:
    """What this service's authorization cannot enforce as written, for `lucid validate`."""
    result = access(state, service)
    found = result.notes
    identified = any(rule.sources is not None for rule in result.rules)
    if identified and not mtls_enabled(state, service):
        found += (
            Note(
                "sidecar security.mTLS",
                f"mTLS is off for {service}: callers are identified by the x-lucid-source "
                "header, which their sidecar sets but which is not tamper-proof",
            ),
        )
    return found


__all__ = [
    "Access",
    "AccessRule",
    "JwtProvider",
    "Permission",
    "RequestMatch",
    "access",
    "mtls_enabled",
    "notes_for",
    "order_key",
    "permission",
]
