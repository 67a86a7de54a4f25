"""Inbound routes: rate limits (`local_ratelimit` per route) and auth redirects, then the app.

A sidecar's `rate-limit` policies limit what reaches its own service. Each rule becomes a
route in the inbound route configuration, matching the policy's `conditions` (path,
method, headers; `source` by the caller's `x-lucid-source` header) intersected with the
rule's `match`, with its own token bucket in `typed_per_filter_config`:

| spec (PolicyRateLimitRule) | Envoy `LocalRateLimit` (per route)                        |
|----------------------------|-----------------------------------------------------------|
| requests                   | token_bucket.tokens_per_fill                              |
| unit second/minute/hour    | token_bucket.fill_interval 1 s / 60 s / 3600 s            |
| burst (default: requests)  | token_bucket.max_tokens                                   |
| (always)                   | 429 when empty; x-ratelimit-limit/-remaining/-reset       |

Routes are first-match, so the rules are ordered by policy priority (higher first), then
policyId and rule order: the highest-priority rule matching a request is the one that
limits it. Buckets are per sidecar, i.e. per instance: three instances of a service limited
to 100 requests/s admit up to 300 between them. An `auth` policy's `redirect` rule is a
route in the same order that answers with the redirect instead of calling the app.
Health checks (the registry's and callers' sidecars') come first, on routes of their own
without a bucket (`health_access.health_route_matches`): a check is never counted, nor
redirected.
Everything else reaches the local app (`inbound|<appPort>`) with no route timeout: the
caller's sidecar owns request timeouts and retries.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Sequence
from typing import Final
from urllib.parse import urlsplit

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.extensions.filters.http.local_ratelimit.v3 import local_rate_limit_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.type.matcher.v3 import regex_pb2, string_pb2
from envoy.type.v3 import percent_pb2, token_bucket_pb2
from google.protobuf import duration_pb2, wrappers_pb2

from lucid.models.common import content_key
from lucid.models.parameters import RateLimitParameters, RedirectParameters
from lucid.models.rules import PolicyRateLimitRule, PolicyRedirectRule, PolicyRuleMatch
from lucid.models.sidecar import SidecarConfiguration, SidecarPolicy
from lucid.translators.clusters import duration_ms
from lucid.translators.health_access import health_requests, health_route_matches
from lucid.translators.messages import pack
from lucid.translators.node import SOURCE_HEADER
from lucid.translators.route_match import (
    EVERYTHING,
    Match,
    match_of,
    merge,
    names_regex,
    route_match,
)
from lucid.translators.state import MeshState

RATE_LIMIT_FILTER: Final = "envoy.filters.http.local_ratelimit"
FILL_INTERVAL_MS: Final = {"second": 1_000, "minute": 60_000, "hour": 3_600_000}
REDIRECT_CODE: Final = {
    301: rc.RedirectAction.MOVED_PERMANENTLY,
    302: rc.RedirectAction.FOUND,
    303: rc.RedirectAction.SEE_OTHER,
    307: rc.RedirectAction.TEMPORARY_REDIRECT,
    308: rc.RedirectAction.PERMANENT_REDIRECT,
}


def _always() -> base_pb2.RuntimeFractionalPercent:
    return base_pb2.RuntimeFractionalPercent(
        default_value=percent_pb2.FractionalPercent(
            numerator=100, denominator=percent_pb2.FractionalPercent.HUNDRED
        )
    )


def local_rate_limit(
    parameters: RateLimitParameters, stat_prefix: str
) -> local_rate_limit_pb2.LocalRateLimit:
    """The per-route `LocalRateLimit` of one rate-limit rule."""
    return local_rate_limit_pb2.LocalRateLimit(
        stat_prefix=stat_prefix,
        token_bucket=token_bucket_pb2.TokenBucket(
            max_tokens=parameters.burst or parameters.requests,
            tokens_per_fill=wrappers_pb2.UInt32Value(value=parameters.requests),
            fill_interval=duration_ms(FILL_INTERVAL_MS[parameters.unit]),
        ),
        filter_enabled=_always(),
        filter_enforced=_always(),
        enable_x_ratelimit_headers=ratelimit_pb2.DRAFT_VERSION_03,
    )


def rate_limit_filter() -> hcm_pb2.HttpFilter:
    """The HCM filter; with no bucket of its own it limits only routes that configure one."""
    config = local_rate_limit_pb2.LocalRateLimit(stat_prefix="inbound_rate_limit")
    return hcm_pb2.HttpFilter(name=RATE_LIMIT_FILTER, typed_config=pack(config))


def _applies(state: MeshState, service: str, policy: SidecarPolicy) -> bool:
    destination = policy.conditions.destination if policy.conditions else None
    return destination is None or service in state.resolve(destination)


def _match(
    state: MeshState, policy: SidecarPolicy, rule_match: PolicyRuleMatch | None
) -> rc.RouteMatch | None:
    conditions = policy.conditions
    base = (
        match_of(conditions.path, conditions.method, conditions.headers)
        if conditions is not None
        else EVERYTHING
    )
    own = (
        match_of(rule_match.path, rule_match.method, rule_match.headers, rule_match.query)
        if rule_match is not None
        else EVERYTHING
    )
    merged: Match | None = merge(base, own) if base is not None and own is not None else None
    if merged is None:
        return None
    result = route_match(merged)
    source = conditions.source if conditions is not None else None
    if source is not None and source != "*":
        names = state.resolve(source)
        if not names:
            return None
        pattern = names_regex(names)
        result.headers.append(
            rc.HeaderMatcher(
                name=SOURCE_HEADER,
                string_match=string_pb2.StringMatcher(
                    safe_regex=regex_pb2.RegexMatcher(regex=pattern)
                ),
            )
        )
    return result


def _redirect(parameters: RedirectParameters) -> rc.RedirectAction:
    action = rc.RedirectAction(response_code=REDIRECT_CODE[parameters.statusCode])
    target = urlsplit(parameters.target)
    if target.scheme:
        action.scheme_redirect = target.scheme
        action.host_redirect = target.hostname or ""
        if target.port:
            action.port_redirect = target.port
    if target.path:
        action.path_redirect = target.path
    return action


def _ordered(sidecar: SidecarConfiguration) -> list[SidecarPolicy]:
    return sorted(
        (p for p in sidecar.policies if p.enabled and p.type in ("rate-limit", "auth")),
        key=lambda p: (-p.priority, p.policyId),
    )


def policy_routes_key(state: MeshState, service: str, cluster: str) -> Hashable:
    """Everything `service`'s policy routes are built from: services with equal keys get
    the same routes (most sidecars carry the same few policies)."""
    key = ("policy routes key", service, cluster)
    found = state._memo.get(key)
    if found is None:
        sidecar = state.sidecar_of_service(service)
        policies = tuple(
            (content_key(policy), _applies(state, service, policy))
            for policy in (_ordered(sidecar) if sidecar is not None else ())
        )
        found = ("policy routes", cluster, policies, health_requests(state, service))
        state._memo[key] = found
    return found


def policy_routes(state: MeshState, service: str, cluster: str) -> tuple[rc.Route, ...]:
    """Rate-limit and redirect routes of `service`'s sidecar, highest priority first; when
    there are any, the health-check routes before them. Built once per distinct input
    (`policy_routes_key`); the inbound route configuration copies them."""
    key = policy_routes_key(state, service, cluster)
    found = state._memo.get(key)
    if found is None:
        routes = list(_policy_routes(state, service, cluster))
        if routes:
            routes[:0] = _health_routes(state, service, cluster)
        found = state._memo[key] = tuple(routes)
    assert isinstance(found, tuple)
    return found


def _health_routes(state: MeshState, service: str, cluster: str) -> list[rc.Route]:
    """Built once per distinct matches (callers copy them into their route configurations)."""
    key = ("health-check routes", health_requests(state, service), cluster)
    found = state._memo.get(key)
    if found is None:
        found = state._memo[key] = [
            app_route(f"health-check|{method}|{path}", match, cluster)
            for (method, path), match in health_route_matches(state, service)
        ]
    assert isinstance(found, list)
    return found


def _policy_routes(state: MeshState, service: str, cluster: str) -> Iterator[rc.Route]:
    sidecar = state.sidecar_of_service(service)
    if sidecar is None:
        return
    for policy in _ordered(sidecar):
        if not _applies(state, service, policy):
            continue
        for index, rule in enumerate(policy.rules):
            if not isinstance(rule, PolicyRateLimitRule | PolicyRedirectRule):
                continue
            if rule.match is not None and rule.match.body is not None:
                continue  # notes.py: the body is never seen
            match = _match(state, policy, rule.match)
            if match is None:
                continue
            name = f"{policy.type}|{policy.policyId}|{index}"
            if isinstance(rule, PolicyRedirectRule):
                yield rc.Route(name=name, match=match, redirect=_redirect(rule.parameters))
                continue
            route = app_route(name, match, cluster)
            limit = local_rate_limit(rule.parameters, f"rate_limit_{policy.policyId}_{index}")
            route.typed_per_filter_config[RATE_LIMIT_FILTER].CopyFrom(pack(limit))
            yield route


def app_route(name: str, match: rc.RouteMatch, cluster: str) -> rc.Route:
    """A route to the local app, without a timeout (the caller's sidecar owns it)."""
    return rc.Route(
        name=name,
        match=match,
        route=rc.RouteAction(cluster=cluster, timeout=duration_pb2.Duration()),
    )


def _path_header(match: rc.RouteMatch) -> rc.HeaderMatcher | None:
    """A route match's path condition as a `:path` header matcher, so it can be added to
    another route's match (`:path` carries the query string, hence the optional tail)."""
    kind = match.WhichOneof("path_specifier")
    if kind == "prefix":
        if match.prefix in ("", "/"):
            return None
        return rc.HeaderMatcher(
            name=":path", string_match=string_pb2.StringMatcher(prefix=match.prefix)
        )
    if kind == "path":
        pattern = re.escape(match.path) + r"(\?.*)?"
    elif kind == "safe_regex":
        pattern = f"(?:{match.safe_regex.regex})" + r"(\?.*)?"
    else:
        return None
    return rc.HeaderMatcher(
        name=":path",
        string_match=string_pb2.StringMatcher(safe_regex=regex_pb2.RegexMatcher(regex=pattern)),
    )


def edge_limited(state: MeshState, service: str, table: Sequence[rc.Route]) -> list[rc.Route]:
    """A gateway's edge routes with its rate limits: for each rate-limit rule (highest
    priority first) a copy of every route narrowed to the rule's conditions and carrying
    its token bucket, then the routes themselves. Edge callers are anonymous, so rules
    whose conditions name a source do not apply there."""
    sidecar = state.sidecar_of_service(service)
    if sidecar is None:
        return list(table)
    limited: list[rc.Route] = []
    for policy in _ordered(sidecar):
        if policy.type != "rate-limit" or not _applies(state, service, policy):
            continue
        if policy.conditions is not None and policy.conditions.source not in (None, "*"):
            continue
        for index, rule in enumerate(policy.rules):
            if not isinstance(rule, PolicyRateLimitRule):
                continue
            if rule.match is not None and rule.match.body is not None:
                continue  # notes.py: the body is never seen
            narrow = _match(state, policy, rule.match)
            if narrow is None:
                continue
            path = _path_header(narrow)
            limit = pack(
                local_rate_limit(rule.parameters, f"edge_rate_limit_{policy.policyId}_{index}")
            )
            for route in table:
                copy = rc.Route()
                copy.CopyFrom(route)
                copy.name = f"{route.name}|rate-limit|{policy.policyId}|{index}"
                copy.match.headers.extend([*narrow.headers, *([path] if path else [])])
                copy.match.query_parameters.extend(narrow.query_parameters)
                copy.typed_per_filter_config[RATE_LIMIT_FILTER].CopyFrom(limit)
                limited.append(copy)
    return [*limited, *table]
