"""What an outbound route does, and how that becomes an Envoy `Route`.

The route table is computed in two steps: first which requests go where (`Entry`: a
`Match` and an `Action`, see `virtual_hosts.py`), then each entry is rendered here, once
per destination and source signature. Keeping the decision as plain values lets one
destination's entries be intersected with a sidecar route's match before rendering.

| action / setting        | Envoy                                                         |
|-------------------------|---------------------------------------------------------------|
| `Forward` one target    | `RouteAction.cluster` `outbound|<service>`                    |
| `Forward` split         | `weighted_clusters` (weights as given; unregistered left out) |
| mirrors                 | `request_mirror_policies`, `runtime_fraction` = percentage    |
| request timeout         | `RouteAction.timeout` (proxyless: `max_stream_duration`)      |
| response timeout        | retry `per_try_timeout`; without retries it caps `timeout`    |
| idle timeout            | `RouteAction.idle_timeout`                                    |
| retry                   | `retry_policy` (`route_policies.retry_policy`)                |
| endpoint.path `/base`   | `prefix_rewrite` `/base` + matched prefix (regex match:       |
|                         | `regex_rewrite`); paths already under `/base` stay as sent    |
| consistent-hash         | `hash_policy` from `hashOn` (`route_policies.hash_policies`)   |
| stickySession           | stateful-session per-filter config on the route or cluster    |
| `Redirect`              | `Route.redirect`: scheme, host, port, path, status code       |
| `Unavailable`           | `direct_response` 503 (a destination that is not registered)  |

A request timeout that nothing sets is Envoy's own (15 s); the destination's circuit-break
rule `timeout`, when written, is the request timeout of routes that set none. Only fields
written in a timeout block count as set: the spec's defaults are not injected.

Proxyless gRPC clients get only what gRPC implements: no rewrite, mirror, idle timeout or
sticky cookie, and no redirect or direct response (those routes are left out); the request
timeout becomes `max_stream_duration`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import urlsplit

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.type.matcher.v3 import regex_pb2
from envoy.type.v3 import percent_pb2

from lucid.models.config import RetryConfig, TimeoutConfig
from lucid.models.parameters import RedirectParameters
from lucid.translators.clusters import duration_ms
from lucid.translators.endpoints import cluster_name
from lucid.translators.route_match import Match, PathKind, merge, route_match
from lucid.translators.route_policies import (
    STATEFUL_SESSION_FILTER,
    DestinationFacts,
    hash_policies,
    retry_policy,
    sticky_route_config,
)

_REDIRECT_CODES = {
    301: rc.RedirectAction.MOVED_PERMANENTLY,
    302: rc.RedirectAction.FOUND,
    303: rc.RedirectAction.SEE_OTHER,
    307: rc.RedirectAction.TEMPORARY_REDIRECT,
    308: rc.RedirectAction.PERMANENT_REDIRECT,
}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Request, response and idle timeouts in ms; None leaves Envoy's default."""

    request_ms: int | None = None
    response_ms: int | None = None
    idle_ms: int | None = None

    def over(self, config: TimeoutConfig | None) -> Timeouts:
        """These timeouts with the fields `config` writes laid over them."""
        if config is None:
            return self
        written = config.model_fields_set
        return Timeouts(
            request_ms=config.request if "request" in written else self.request_ms,
            response_ms=config.response if "response" in written else self.response_ms,
            idle_ms=config.idle if "idle" in written else self.idle_ms,
        )


@dataclass(frozen=True, slots=True)
class Forward:
    """Send to `targets` ((service, weight), registered, weight > 0). `addressed` is the
    destination the request was addressed to: hashing, rewrite and protocol follow it."""

    addressed: str
    targets: tuple[tuple[str, int], ...]
    mirrors: tuple[tuple[str, float], ...] = ()
    retry: RetryConfig | None = None
    timeouts: Timeouts = Timeouts()
    # False on the copy of a route that takes requests already under the base path.
    rewrite: bool = True

    def decorated(
        self,
        mirrors: tuple[tuple[str, float], ...],
        retry: RetryConfig | None,
        timeouts: tuple[TimeoutConfig, ...],
    ) -> Forward:
        """With more mirrors, a retry that replaces this one, timeouts laid over in order."""
        merged = self.timeouts
        for config in reversed(timeouts):
            merged = merged.over(config)
        known = {service for service, _ in self.mirrors}
        extra = tuple(m for m in mirrors if m[0] not in known)
        return replace(
            self,
            mirrors=self.mirrors + extra,
            retry=retry if retry is not None else self.retry,
            timeouts=merged,
        )


@dataclass(frozen=True, slots=True)
class Redirect:
    """Answer with a redirect. `rule_kind`/`rule_path` are the path match of the rule that
    asked for it: a target path replaces that prefix and keeps the rest of the path."""

    parameters: RedirectParameters
    rule_kind: PathKind = "prefix"
    rule_path: str = "/"


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A destination that is not registered: answer 503 rather than name a missing cluster."""

    service: str


Action = Forward | Redirect | Unavailable


@dataclass(frozen=True, slots=True)
class Entry:
    match: Match
    action: Action


FactsOf = Callable[[str], DestinationFacts]


def _fraction(percentage: float) -> base_pb2.RuntimeFractionalPercent:
    fraction = percent_pb2.FractionalPercent()
    if float(percentage).is_integer():
        fraction.numerator = int(percentage)
        fraction.denominator = percent_pb2.FractionalPercent.HUNDRED
    else:
        fraction.numerator = round(percentage * 10_000)
        fraction.denominator = percent_pb2.FractionalPercent.MILLION
    return base_pb2.RuntimeFractionalPercent(default_value=fraction)


def _rewrite(action: rc.RouteAction, match: Match, base_path: str) -> None:
    base = base_path.rstrip("/")
    if match.kind == "regex":
        action.regex_rewrite.pattern.CopyFrom(regex_pb2.RegexMatcher(regex="^/"))
        action.regex_rewrite.substitution = base + "/"
    else:
        action.prefix_rewrite = base + match.path


def _forward(match: Match, forward: Forward, facts_of: FactsOf, proxyless: bool) -> rc.Route:
    facts = facts_of(forward.addressed)
    route = rc.Route()
    route_match(match, route.match)
    action = route.route
    if len(forward.targets) == 1:
        (service, _), target = forward.targets[0], facts_of(forward.targets[0][0])
        action.cluster = cluster_name(service)
        if target.sticky_cookie is not None and not proxyless:
            route.typed_per_filter_config[STATEFUL_SESSION_FILTER].CopyFrom(
                sticky_route_config(target.sticky_cookie, target.sticky_ttl)
            )
    else:
        for service, weight in forward.targets:
            member = rc.WeightedCluster.ClusterWeight(name=cluster_name(service))
            member.weight.value = weight
            sticky = facts_of(service)
            if sticky.sticky_cookie is not None and not proxyless:
                member.typed_per_filter_config[STATEFUL_SESSION_FILTER].CopyFrom(
                    sticky_route_config(sticky.sticky_cookie, sticky.sticky_ttl)
                )
            action.weighted_clusters.clusters.append(member)
    if facts.base_path is not None and forward.rewrite and not proxyless:
        _rewrite(action, match, facts.base_path)
    timeouts = forward.timeouts
    request_ms = timeouts.request_ms or facts.breaker_timeout_ms
    retry = None
    if forward.retry is not None:
        retry = retry_policy(forward.retry, facts.protocol, timeouts.response_ms, proxyless)
    if retry is None and timeouts.response_ms is not None:
        request_ms = min(request_ms or timeouts.response_ms, timeouts.response_ms)
    if request_ms is not None:
        if proxyless:
            action.max_stream_duration.max_stream_duration.CopyFrom(duration_ms(request_ms))
        else:
            action.timeout.CopyFrom(duration_ms(request_ms))
    if timeouts.idle_ms is not None and not proxyless:
        action.idle_timeout.CopyFrom(duration_ms(timeouts.idle_ms))
    if retry is not None:
        action.retry_policy.CopyFrom(retry)
    if facts.consistent_hash:
        action.hash_policy.extend(hash_policies(facts.hash_on, proxyless))
    if not proxyless:
        for service, percentage in forward.mirrors:
            action.request_mirror_policies.append(
                rc.RouteAction.RequestMirrorPolicy(
                    cluster=cluster_name(service), runtime_fraction=_fraction(percentage)
                )
            )
    return route


@dataclass(frozen=True, slots=True)
class Url:
    scheme: str
    host: str | None
    port: int | None
    path: str
    query: str


@lru_cache(maxsize=4096)
def split_url(url: str) -> Url:
    """A redirect target's parts, remembered: targets repeat across sources and states."""
    parts = urlsplit(url)
    return Url(parts.scheme, parts.hostname, parts.port, parts.path, parts.query)


def _redirect(match: Match, redirect: Redirect) -> rc.Route:
    parameters = redirect.parameters
    target = split_url(parameters.target)
    action = rc.RedirectAction(response_code=_REDIRECT_CODES[parameters.statusCode])
    if target.scheme:
        action.scheme_redirect = target.scheme
    if target.host:
        action.host_redirect = target.host
    if target.port is not None:
        action.port_redirect = target.port
    path = target.path
    keeps_rest = redirect.rule_kind == "prefix" and redirect.rule_path != "/"
    if path and keeps_rest and not target.query:
        if redirect.rule_path.endswith("/") and not path.endswith("/"):
            path += "/"
        if match.kind == "regex":
            action.regex_rewrite.pattern.CopyFrom(
                regex_pb2.RegexMatcher(regex="^" + re.escape(redirect.rule_path))
            )
            action.regex_rewrite.substitution = path
        else:
            action.prefix_rewrite = path + match.path[len(redirect.rule_path) :]
    elif path:
        action.path_redirect = path + (f"?{target.query}" if target.query else "")
    route = rc.Route(redirect=action)
    route_match(match, route.match)
    return route


def under_base_path(entry: Entry, base_path: str) -> list[Entry]:
    """A forwarding entry split by the destination's base path: requests already under it
    (`/base` or `/base/...`) are sent unchanged, the others get the base put in front.

    So an app may call a service mounted at `/api/v1` with `/sessions/1` or with the full
    `/api/v1/sessions/1`; neither becomes `/api/v1/api/v1/...`.
    """
    if not isinstance(entry.action, Forward):
        return [entry]
    base = base_path.rstrip("/")
    match = entry.match
    plain = Entry(match, replace(entry.action, rewrite=False))
    if match.kind != "regex" and (match.path == base or match.path.startswith(base + "/")):
        return [plain]
    if match.kind == "prefix" and not base.startswith(match.path):
        return [entry]
    under = merge(match, Match(kind="regex", path=re.escape(base) + "(?:/.*)?"))
    if under is None:
        return [entry]
    return [Entry(under, plain.action), entry]


def render(entry: Entry, facts_of: FactsOf, proxyless: bool) -> rc.Route | None:
    """The Envoy route of one entry; None for what a proxyless gRPC client cannot do."""
    action = entry.action
    if isinstance(action, Forward):
        return _forward(entry.match, action, facts_of, proxyless)
    if proxyless:
        return None
    if isinstance(action, Redirect):
        return _redirect(entry.match, action)
    body = base_pb2.DataSource(inline_string=f"service {action.service!r} is not registered\n")
    route = rc.Route(direct_response=rc.DirectResponseAction(status=503, body=body))
    route_match(entry.match, route.match)
    return route
