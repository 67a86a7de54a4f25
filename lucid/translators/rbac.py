"""RBAC: a destination's ordered access rules (`access.py`) as Envoy RBAC filters.

The filters sit in the listener's HTTP filter chain with a base configuration that denies
every request (`LISTENER_RBAC_FILTERS`); what they enforce is each route configuration's
per-filter configuration (`rbac_per_route`), sent by RDS. A policy change then updates a
route configuration, not the listener (unless it moves jwt_authn's rules): Envoy drains a
listener's connections when its filters change, and an HTTP/1.1 caller that sends a
request on a connection just as it is closed gets a 503 (`UC`). A route configuration
without the per-filter configuration would fail closed.

Envoy's classic RBAC has no order between ALLOW and DENY policies, so first-match is
encoded with two filters (the unified `matcher` was not chosen: its inputs cannot match a
JWT claim against a list of roles, which the metadata matcher of a principal can):

1. a DENY filter with one policy per deny rule *i*: `rule_i and not (allow_1 or ... or allow_k)`
   over the allow rules that come before *i*, so a request an earlier allow rule matched
   is never denied by a later deny rule; when the fallback allows, plane isolation is its
   last policy (`other plane ∧ ¬(any allow)`);
2. when the fallback denies, an ALLOW filter whose policies are the allow rules.

A request whose first matching rule denies matches that rule's DENY policy; one whose
first matching rule allows matches no DENY policy and the ALLOW policy; one that matches
nothing is decided by the fallback. Every condition is a `Principal` (headers, path,
metadata and peer identity all exist there), so and, or and not compose freely; `port:N`
permissions are decided when compiling, because a listener has one port.

Who the caller is (`Caller`): with mTLS, the URI SAN of its verified certificate
(`state.spiffe_id`); without mTLS, the `x-lucid-source` header its sidecar sets to its
service name — not tamper-proof, since any client reaching the port can set it. On a
gateway's edge listener callers are external: rules naming sources never match there,
only rules for any caller (`*`) do, and there is no plane isolation.

A control-plane rule (the health checks, `health_access.py`) names its caller instead: a
health checker, known by the absence of both source headers (with mTLS the connection also
carries a mesh certificate: the registry's or a caller's sidecar's); on the edge nobody.
Without mTLS no rule naming sources can match that caller (it needs a source header), so
such deny rules leave the control-plane allows out of their exclusions, which keeps their
policies as they were. With mTLS a caller's sidecar checking its destination presents its
own `plane/` SPIFFE id, which a rule naming sources can match, so there every deny rule
excludes the health-check allow ranked above it, as for any other allow. Policy names
number the other rules only (`policy_names`), so adding the health-check rule renames no
policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, cast

from envoy.config.rbac.v3 import rbac_pb2
from envoy.config.rbac.v3.rbac_pb2 import Principal
from envoy.config.route.v3 import route_components_pb2
from envoy.extensions.filters.http.rbac.v3 import rbac_pb2 as rbac_filter_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.type.matcher.v3 import (
    metadata_pb2,
    number_pb2,
    path_pb2,
    regex_pb2,
    string_pb2,
    value_pb2,
)
from google.protobuf import any_pb2

from lucid.models.common import PLANES
from lucid.translators.access import (
    SERVICE_AUTHENTICATION,
    Access,
    AccessRule,
    Authentication,
    Permission,
    RequestMatch,
)
from lucid.translators.messages import pack
from lucid.translators.node import SOURCE_HEADER, SOURCE_PLANE_HEADER
from lucid.translators.state import TRUST_DOMAIN, MeshState, spiffe_id

Cond: TypeAlias = Principal | bool  # True and False are folded away before anything is emitted

RBAC_DENY_FILTER: Final = "lucid.rbac.deny"
RBAC_ALLOW_FILTER: Final = "lucid.rbac.allow"
JWT_METADATA: Final = "envoy.filters.http.jwt_authn"
ROLES_CLAIM: Final = "roles"


@dataclass(frozen=True)
class Caller:
    """How one listener tells callers apart."""

    mode: Literal["mtls", "header", "external"]
    ports: frozenset[int]
    planes: frozenset[str] = frozenset()


# -- boolean algebra over principals ------------------------------------------------------


def all_of(*parts: Cond) -> Cond:
    kept: list[Principal] = []
    for part in parts:
        if part is False:
            return False
        if part is not True:
            kept.append(part)
    if not kept:
        return True
    return kept[0] if len(kept) == 1 else Principal(and_ids=rbac_pb2.Principal.Set(ids=kept))


def any_of(*parts: Cond) -> Cond:
    kept: list[Principal] = []
    for part in parts:
        if part is True:
            return True
        if part is not False:
            kept.append(part)
    if not kept:
        return False
    return kept[0] if len(kept) == 1 else Principal(or_ids=rbac_pb2.Principal.Set(ids=kept))


def negate(part: Cond) -> Cond:
    if isinstance(part, bool):
        return not part
    return Principal(not_id=part)


def emit(part: Cond) -> Principal:
    if part is True:
        return Principal(any=True)
    if part is False:
        return Principal(not_id=Principal(any=True))
    return part


# -- leaves -------------------------------------------------------------------------------


def _header(name: str, *, exact: str | None = None, regex: str | None = None) -> Principal:
    matcher = route_components_pb2.HeaderMatcher(name=name)
    if exact is not None:
        matcher.string_match.exact = exact
    elif regex is not None:
        matcher.string_match.safe_regex.CopyFrom(regex_pb2.RegexMatcher(regex=regex))
    else:
        matcher.present_match = True
    return Principal(header=matcher)


def path_string_matcher(path: str) -> string_pb2.StringMatcher:
    """`/exact`, `/prefix/*` or `regex:<RE2>` as a matcher of the path without the query."""
    if path.startswith("regex:"):
        return string_pb2.StringMatcher(
            safe_regex=regex_pb2.RegexMatcher(regex=path[len("regex:") :])
        )
    if path.endswith("*"):
        return string_pb2.StringMatcher(prefix=path[:-1])
    return string_pb2.StringMatcher(exact=path)


def _path(path: str) -> Principal:
    return Principal(url_path=path_pb2.PathMatcher(path=path_string_matcher(path)))


def query_regex(name: str, value: str) -> str:
    """A `:path` regex true when the query string has `name=value`."""
    return f".*[?&]{re.escape(name)}={re.escape(value)}(&.*)?"


def request_condition(request: RequestMatch) -> Cond:
    return all_of(
        *(_path(p) for p in request.paths),
        *(_header(":method", exact=m) for m in request.methods),
        *(_header(name.lower(), exact=value) for name, value in request.headers),
        *(_header(":path", regex=query_regex(k, v)) for k, v in request.query),
    )


def _permission(permission: Permission, caller: Caller) -> Cond:
    if permission.port is not None:
        return permission.port in caller.ports
    return all_of(
        _header(":method", exact=permission.method) if permission.method else True,
        _path(permission.path) if permission.path else True,
    )


def _metadata(path: Sequence[str], value: value_pb2.ValueMatcher) -> Principal:
    matcher = metadata_pb2.MetadataMatcher(
        filter=JWT_METADATA,
        path=[metadata_pb2.MetadataMatcher.PathSegment(key=key) for key in path],
        value=value,
    )
    return Principal(metadata=matcher)


def _exact(text: str) -> value_pb2.ValueMatcher:
    return value_pb2.ValueMatcher(string_match=string_pb2.StringMatcher(exact=text))


def _claim(provider: str, path: list[str], value: Any) -> Cond:
    """The verified payload has claim `path` equal to `value` (dicts: nested claims; lists:
    the claim is a list holding every item)."""
    if isinstance(value, dict):
        return all_of(*(_claim(provider, [*path, k], v) for k, v in sorted(value.items())))
    if isinstance(value, list):
        return all_of(*(_in_list(provider, path, item) for item in value))
    return _metadata([provider, *path], _scalar(value))


def _scalar(value: Any) -> value_pb2.ValueMatcher:
    if value is None:
        return value_pb2.ValueMatcher(null_match=value_pb2.ValueMatcher.NullMatch())
    if isinstance(value, bool):
        return value_pb2.ValueMatcher(bool_match=value)
    if isinstance(value, int | float):
        return value_pb2.ValueMatcher(double_match=number_pb2.DoubleMatcher(exact=float(value)))
    return _exact(str(value))


def _in_list(provider: str, path: list[str], item: Any) -> Principal:
    one_of = value_pb2.ValueMatcher(list_match=value_pb2.ListMatcher(one_of=_scalar(item)))
    return _metadata([provider, *path], one_of)


def jwt_verified(issuers: dict[str, str], provider: str) -> Principal:
    """A token from `provider` was verified: its `iss` claim is in the payload metadata
    (a present_match cannot test the payload itself, which is a struct)."""
    return _metadata([provider, "iss"], _exact(issuers[provider]))


class Compiler:
    """Compiles one destination's `Access` for one listener."""

    def __init__(self, state: MeshState, access: Access, caller: Caller) -> None:
        self.state = state
        self.access = access
        self.caller = caller
        self.issuers = {p.name: p.issuer for p in access.providers}

    def sources(self, names: frozenset[str] | None) -> Cond:
        if names is None:
            return True
        if self.caller.mode == "external":
            return False
        planes, rest = self._whole_planes(names)
        if self.caller.mode == "header":
            return any_of(
                *(_header(SOURCE_PLANE_HEADER, exact=plane) for plane in planes),
                *(_header(SOURCE_HEADER, exact=name) for name in sorted(rest)),
            )
        ids = sorted(
            spiffe_id(plane, name)
            for name in rest
            if (service := self.state.service(name)) is not None
            for plane in service.planes
        )
        return any_of(
            *(_peer(prefix=f"spiffe://{TRUST_DOMAIN}/plane/{plane}/") for plane in planes),
            *(_peer(exact=i) for i in ids),
        )

    def _whole_planes(self, names: frozenset[str]) -> tuple[tuple[str, ...], frozenset[str]]:
        """Planes all of whose services are among `names` (one match each instead of one
        per service: `plane:ops` selects hundreds), and the names left over."""
        key = ("whole planes", names)
        found = self.state._memo.get(key)
        if found is not None:
            return cast(tuple[tuple[str, ...], frozenset[str]], found)
        planes: list[str] = []
        rest = set(names)
        for plane in PLANES:
            # Every service with an instance in the plane, so the prefix matches no one
            # outside `names` (a service spanning planes holds one plane's identity).
            members = self.state.resolve(f"plane:{plane}")
            if members and members <= names:
                planes.append(plane)
                rest -= members
        self.state._memo[key] = result = (tuple(planes), frozenset(rest))
        return result

    def authentication(self, authn: Authentication) -> Cond:
        peer: Cond = False
        if authn.peer and self.caller.mode == "mtls":
            peer = True  # the listener requires a verified client certificate
        keys = (
            any_of(*(_header(authn.api_key_header, exact=k) for k in authn.api_keys))
            if authn.api_key_header
            else False
        )
        return any_of(peer, keys, *(jwt_verified(self.issuers, p) for p in authn.jwt))

    def roles(self, rule: AccessRule) -> Cond:
        if not rule.roles:
            return True
        return any_of(
            *(
                any_of(
                    _in_list(provider, [ROLES_CLAIM], role),
                    _metadata([provider, ROLES_CLAIM], _exact(role)),
                )
                for provider in rule.role_providers
                for role in rule.roles
            )
        )

    def requirement(self, rule: AccessRule) -> Cond:
        return all_of(
            self.authentication(rule.authentication) if rule.authentication else True,
            *(_claim(p, [], json.loads(claims)) for p, claims in rule.claims),
            self.roles(rule),
        )

    def control_plane(self, identity: str | None) -> Cond:
        """The caller is a health checker (`health_access.py`) when a rule names the
        control-plane component `identity`: the registry's, or a caller's sidecar running
        the destination's check (None: any caller). Neither sends a source header; an
        app's requests always carry `x-lucid-source`, set by its sidecar."""
        if identity is None:
            return True
        if self.caller.mode in ("mtls", "header"):
            return negate(any_of(_header(SOURCE_HEADER), _header(SOURCE_PLANE_HEADER)))
        return False

    def rule(self, rule: AccessRule) -> Cond:
        if rule.control_plane is None:
            return self._rule(rule)
        # The same for every listener of a caller mode: compiled once per state.
        key = ("control-plane rule", rule, self.caller.mode)
        found = self.state._memo.get(key)
        if found is None:
            found = self.state._memo[key] = self._rule(rule)
        assert isinstance(found, Principal | bool)
        return found

    def _rule(self, rule: AccessRule) -> Cond:
        permissions = (
            any_of(*(_permission(p, self.caller) for p in rule.permissions))
            if rule.permissions
            else True
        )
        scope = all_of(
            self.control_plane(rule.control_plane),
            self.sources(rule.sources),
            request_condition(rule.request),
            permissions,
        )
        if rule.gate:
            return all_of(scope, negate(self.requirement(rule)))
        return all_of(scope, self.requirement(rule))

    def other_plane(self) -> Cond:
        """A caller known to be from another plane than this listener's."""
        if self.caller.mode == "external" or not self.caller.planes:
            return False
        if self.caller.mode == "mtls":
            prefixes = (f"spiffe://{TRUST_DOMAIN}/plane/{p}/" for p in sorted(self.caller.planes))
            return negate(any_of(*(_peer(prefix=prefix) for prefix in prefixes)))
        # The calling sidecar sets its plane beside its name (routes.py).
        return all_of(
            _header(SOURCE_PLANE_HEADER),
            negate(
                any_of(*(_header(SOURCE_PLANE_HEADER, exact=p) for p in sorted(self.caller.planes)))
            ),
        )

    def configs(self) -> dict[str, rbac_filter_pb2.RBAC]:
        """The configurations of zero, one or both RBAC filters, by filter name: DENY
        (first-match order), then ALLOW. A filter left out decides nothing.

        With `authorization.enabled: false` no rule authorizes or denies anyone, and
        there is no plane isolation; the sidecar's own `security.authentication` still
        applies (as the deny it compiles to), and health checks still pass it."""
        rules = self.access.rules
        default_allow = self.access.default_allow
        isolate = default_allow
        if not self.access.enabled:
            rules = tuple(
                r
                for r in rules
                if r.control_plane is not None or r.origin == SERVICE_AUTHENTICATION
            )
            default_allow, isolate = True, False
        # With mTLS a health checker has a mesh identity too (module docstring), so the
        # health-check allow is excluded like any other allow.
        mtls = self.caller.mode == "mtls"
        conditions = {id(rule): self.rule(rule) for rule in rules}
        deny: dict[str, Principal] = {}
        allows: list[tuple[AccessRule, Cond]] = []
        for name, rule in zip(policy_names(rules), rules, strict=True):
            condition = conditions[id(rule)]
            if condition is False:
                continue
            if rule.effect == "allow":
                allows.append((rule, condition))
                continue
            # Without mTLS a rule naming sources never matches a health checker (it needs a
            # source header).
            earlier = (
                c for r, c in allows if mtls or rule.sources is None or r.control_plane is None
            )
            denied = all_of(condition, negate(any_of(*earlier)))
            if denied is not False:
                deny[name] = emit(denied)
        if isolate:
            # Without mTLS another plane is known by its plane header, which a
            # control-plane caller never sends: only with mTLS must its allows be excluded.
            exempt = (c for r, c in allows if mtls or r.control_plane is None)
            isolated = all_of(self.other_plane(), negate(any_of(*exempt)))
            if isolated is not False:
                numbered = sum(1 for r in rules if r.control_plane is None)
                deny[f"{numbered:04d} plane isolation"] = emit(isolated)
        result = {}
        if deny:
            result[RBAC_DENY_FILTER] = _config(rbac_pb2.RBAC.DENY, deny)
        if not default_allow:
            allow_rules = [r for r in rules if r.effect == "allow"]
            allowed = {
                name: emit(c)
                for name, (r, c) in zip(
                    policy_names(allow_rules),
                    ((r, conditions[id(r)]) for r in allow_rules),
                    strict=True,
                )
                if c is not False
            }
            result[RBAC_ALLOW_FILTER] = _config(rbac_pb2.RBAC.ALLOW, allowed)
        return result


def policy_names(rules: Sequence[AccessRule]) -> list[str]:
    """`NNNN <origin>` numbered over the rules that are not control-plane rules, which are
    named by their origin alone: adding a health-check rule renames no other policy."""
    names: list[str] = []
    position = 0
    for rule in rules:
        if rule.control_plane is not None:
            names.append(rule.origin)
        else:
            names.append(f"{position:04d} {rule.origin}")
            position += 1
    return names


def _peer(*, exact: str | None = None, prefix: str | None = None) -> Principal:
    matcher = (
        string_pb2.StringMatcher(exact=exact)
        if exact
        else string_pb2.StringMatcher(prefix=prefix or "")
    )
    return Principal(authenticated=rbac_pb2.Principal.Authenticated(principal_name=matcher))


def _config(
    action: rbac_pb2.RBAC.Action.ValueType, policies: dict[str, Principal]
) -> rbac_filter_pb2.RBAC:
    config = rbac_filter_pb2.RBAC()
    rules = config.rules
    rules.action = action
    for key in sorted(policies):
        policy = rules.policies[key]
        policy.permissions.add(any=True)
        policy.principals.append(policies[key])
    return config


def rbac_configs(
    state: MeshState, access: Access, caller: Caller
) -> dict[str, rbac_filter_pb2.RBAC]:
    """What the RBAC filters enforce for `access`, seen from callers as `caller` describes,
    by filter name (a filter left out decides nothing)."""
    return Compiler(state, access, caller).configs()


def _deny_everything(name: str) -> hcm_pb2.HttpFilter:
    # An ALLOW action with no policy matches nothing, so it denies every request.
    config = rbac_filter_pb2.RBAC(rules=rbac_pb2.RBAC(action=rbac_pb2.RBAC.ALLOW))
    return hcm_pb2.HttpFilter(name=name, typed_config=pack(config))


LISTENER_RBAC_FILTERS: Final = (
    _deny_everything(RBAC_DENY_FILTER),
    _deny_everything(RBAC_ALLOW_FILTER),
)


def rbac_per_route(configs: dict[str, rbac_filter_pb2.RBAC]) -> dict[str, any_pb2.Any]:
    """The per-filter configuration of a route configuration's virtual hosts: each RBAC
    filter's configuration from `configs`, or, for a filter left out, none (an
    `RBACPerRoute` without `rbac` turns the filter off for the route)."""
    return {
        name: pack(rbac_filter_pb2.RBACPerRoute(rbac=configs[name]))
        if name in configs
        else pack(rbac_filter_pb2.RBACPerRoute())
        for name in (RBAC_DENY_FILTER, RBAC_ALLOW_FILTER)
    }
