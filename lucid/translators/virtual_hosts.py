"""One destination's outbound routes as a source sees them, built once per signature.

The expensive part of a mesh is N sidecars x M destinations (DESIGN.md). What a source
sends to destination D depends on few inputs: D itself, the source's routing defaults
(retry, timeout), the traffic rules from that source to D and the source's retry/timeout
policies that select D. Those inputs form the *signature* of (source, D); sources with the
same signature share the entries and the rendered `VirtualHost` (usually: most sources have
no rule for most destinations). The `x-lucid-source` header is set on the whole route
configuration, not here, so it does not split signatures.

Entries of D, first match wins:

1. traffic rules from the source to D (enabled; policies by priority, higher first, then
   name; then rule order): `redirect` and `weighted-split` each add a route for their
   match. One without a match (or matching every request) becomes the action of all
   remaining traffic, and rules after it never apply. `allow`/`deny` are inbound RBAC.
   Which rules apply to a (source, D) pair is decided in `sources.py`.
2. the route of all remaining traffic: to `outbound|D` (or that split/redirect).
3. decorations, which change routes without choosing where traffic goes: `mirror` rules,
   and the source sidecar's enabled `retry`/`timeout` policies whose conditions select D
   (`conditions.destination` absent selects every destination; `conditions.source`, if
   given, must select the source itself). A decoration without a match applies to every
   forwarding route; one with a match (its conditions' path/method/headers and its rule's
   match) adds, before each forwarding route, a copy restricted to the intersection. A
   request matching several matched decorations gets the first group; decorations with an
   identical match form one group. Among retries and timeouts the higher priority (then
   policyId, then rule order) wins, over a sidecar route's own `retry`/`timeout`, over
   `routing.retry`/`routing.timeout`. Envoy cannot match `match.body`, so a rule that
   needs it is left out (as `lucid validate` warns); a timeout policy's `connect` belongs
   to the destination's cluster and is not used.

A split or mirror target that is not registered is left out (the others keep their
weights, in proportion); a split with no registered target answers 503.

Entries and virtual hosts are memoised in the state's `sources.StateIndex`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from envoy.config.route.v3 import route_components_pb2 as rc

from lucid.models.common import content_key
from lucid.models.config import RetryConfig, TimeoutConfig
from lucid.models.rules import (
    PolicyRetryRule,
    PolicyTimeoutRule,
    TrafficMirrorRule,
    TrafficRedirectRule,
    TrafficRule,
    TrafficWeightedSplitRule,
)
from lucid.translators.mtls import MESH_DOMAIN
from lucid.translators.route_actions import (
    Action,
    Entry,
    Forward,
    Redirect,
    Timeouts,
    Unavailable,
    render,
    under_base_path,
)
from lucid.translators.route_match import EVERYTHING, Match, match_of, merge
from lucid.translators.sources import Source, facts_of, index_of
from lucid.translators.state import MeshState


@dataclass(frozen=True, slots=True)
class Decoration:
    match: Match
    order: int
    mirror: tuple[str, float] | None = None
    retry: RetryConfig | None = None
    timeout: TimeoutConfig | None = None


def _targets(state: MeshState, pairs: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple((n, w) for n, w in pairs if w > 0 and n in state.services)


def _decorations(state: MeshState, src: Source, destination: str) -> list[Decoration]:
    found: list[Decoration] = []
    for _, _, rule in src.rules(destination):
        if isinstance(rule, TrafficMirrorRule):
            target = rule.parameters.destination
            m = _rule_match(rule)
            if m is not None and target in state.services:
                mirror = (target, rule.parameters.percentage)
                found.append(Decoration(match=m, order=len(found), mirror=mirror))
    for policy in src.policies_for(destination):
        c = policy.conditions
        base = match_of(c.path, c.method, c.headers) if c is not None else EVERYTHING
        for policy_rule in policy.rules:
            own = policy_rule.match
            m = match_of(own.path, own.method, own.headers, own.query) if own else EVERYTHING
            merged = merge(base, m) if base is not None and m is not None else None
            if merged is None or (own is not None and own.body is not None):
                continue
            if isinstance(policy_rule, PolicyRetryRule):
                retry = policy_rule.parameters
                found.append(Decoration(match=merged, order=len(found), retry=retry))
            elif isinstance(policy_rule, PolicyTimeoutRule):
                timeout = policy_rule.parameters
                found.append(Decoration(match=merged, order=len(found), timeout=timeout))
    return found


def _rule_match(rule: TrafficRule) -> Match | None:
    wanted = rule.match
    if wanted is None:
        return EVERYTHING
    return match_of(wanted.path, wanted.method, wanted.headers, wanted.query)


def _decorate(forward: Forward, decorations: Iterable[Decoration]) -> Forward:
    ordered = sorted(decorations, key=lambda d: d.order)
    mirrors = tuple(d.mirror for d in ordered if d.mirror is not None)
    retry = next((d.retry for d in ordered if d.retry is not None), None)
    timeouts = tuple(d.timeout for d in ordered if d.timeout is not None)
    return forward.decorated(mirrors, retry, timeouts)


def _terminal(state: MeshState, base: Forward, rule: TrafficRule, m: Match) -> Action | None:
    if isinstance(rule, TrafficRedirectRule):
        return Redirect(parameters=rule.parameters, rule_kind=m.kind, rule_path=m.path)
    if isinstance(rule, TrafficWeightedSplitRule):
        wanted = [(d.destination, d.weight) for d in rule.parameters.destinations]
        targets = _targets(state, wanted)
        if not targets:
            return Unavailable(service=wanted[0][0])
        return Forward(base.addressed, targets, retry=base.retry, timeouts=base.timeouts)
    return None


def destination_entries(
    state: MeshState,
    src: Source,
    destination: str,
    route_retry: RetryConfig | None = None,
    route_timeout_ms: int | None = None,
) -> tuple[Entry, ...]:
    """The entries of `destination` for `src`, with a sidecar route's own retry/timeout."""
    route_key = (
        content_key(route_retry),
        route_timeout_ms,
    )
    key = src.signature(destination, "entries", route_key)
    cache = index_of(state).entries
    found = cache.get(key)
    if found is not None:
        return found
    routing = src.sidecar.routing if src.sidecar is not None else None
    timeouts = Timeouts().over(routing.timeout if routing is not None else None)
    if route_timeout_ms is not None:
        timeouts = Timeouts(route_timeout_ms, timeouts.response_ms, timeouts.idle_ms)
    base = Forward(
        addressed=destination,
        targets=((destination, 100),),
        retry=route_retry if route_retry is not None else (routing.retry if routing else None),
        timeouts=timeouts,
    )
    routes: list[Entry] = []
    fallback: Action = base
    for _, _, rule in src.rules(destination):
        m = _rule_match(rule)
        action = _terminal(state, base, rule, m) if m is not None else None
        if action is None or m is None:
            continue
        if m == EVERYTHING:
            fallback = action
            break
        routes.append(Entry(m, action))
    routes.append(Entry(EVERYTHING, fallback))
    decorations = _decorations(state, src, destination)
    everywhere = [d for d in decorations if d.match == EVERYTHING]
    groups: dict[Match, list[Decoration]] = defaultdict(list)
    for decoration in decorations:
        if decoration.match != EVERYTHING:
            groups[decoration.match].append(decoration)
    result: list[Entry] = []
    for entry in routes:
        if not isinstance(entry.action, Forward):
            result.append(entry)
            continue
        for group_match, group in groups.items():
            merged = merge(entry.match, group_match)
            if merged is not None:
                result.append(Entry(merged, _decorate(entry.action, [*everywhere, *group])))
                if merged == entry.match:
                    break
        else:
            result.append(Entry(entry.match, _decorate(entry.action, everywhere)))
    found = cache[key] = tuple(result)
    return found


def domains(destination: str) -> list[str]:
    """How an app may name a destination: `name`, `name.lucid.onion`, each with any port."""
    mesh = destination + MESH_DOMAIN
    return [destination, f"{destination}:*", mesh, f"{mesh}:*"]


def render_entries(
    state: MeshState, entries: Iterable[Entry], proxyless: bool = False
) -> list[rc.Route]:
    """Envoy routes of entries; forwarding to a destination with a base path takes two."""
    routes: list[rc.Route] = []
    for entry in entries:
        expanded = [entry]
        if isinstance(entry.action, Forward) and not proxyless:
            base = facts_of(state, entry.action.addressed).base_path
            expanded = under_base_path(entry, base) if base is not None else expanded
        for one in expanded:
            route = render(one, lambda n: facts_of(state, n), proxyless)
            if route is not None:
                routes.append(route)
    return routes


def virtual_host(
    state: MeshState, src: Source, destination: str, proxyless: bool
) -> rc.VirtualHost:
    """The virtual host of `destination` for `src` (shared by equal signatures)."""
    key = src.signature(destination, "vhost", proxyless)
    cache = index_of(state).vhosts
    found = cache.get(key)
    if found is None:
        entries = destination_entries(state, src, destination)
        found = cache[key] = rc.VirtualHost(
            name=destination, domains=[destination] if proxyless else domains(destination)
        )
        found.routes.MergeFrom(render_entries(state, entries, proxyless))
    return found
