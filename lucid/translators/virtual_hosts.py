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
   `sourceLabels`/`destinationLabels` are checked against `metadata.labels` of the
   services' primary registrations, at compile time.
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
   `routing.retry`/`routing.timeout`. `match.body` cannot be matched by Envoy and is not.

A split or mirror target that is not registered is left out (the others keep their
weights, in proportion); a split with no registered target answers 503.

Memoisation is per `MeshState`, in a table keyed by the state's identity and dropped when
the state is garbage collected: output depends only on the state, so it stays pure.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from envoy.config.listener.v3 import listener_pb2 as lst_pb2
from envoy.config.route.v3 import route_components_pb2 as rc

from lucid.models import SidecarConfiguration, TrafficPolicy
from lucid.models.config import RetryConfig, TimeoutConfig
from lucid.models.rules import (
    PolicyRetryRule,
    PolicyTimeoutRule,
    TrafficMirrorRule,
    TrafficRedirectRule,
    TrafficRule,
    TrafficWeightedSplitRule,
)
from lucid.models.sidecar import SidecarPolicy
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
from lucid.translators.route_policies import DestinationFacts, destination_facts
from lucid.translators.state import MeshState

ROUTING_ACTIONS = (TrafficRedirectRule, TrafficMirrorRule, TrafficWeightedSplitRule)
RuleRef = tuple[TrafficPolicy, int, TrafficRule]
Signature = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Decoration:
    match: Match
    order: int
    mirror: tuple[str, float] | None = None
    retry: RetryConfig | None = None
    timeout: TimeoutConfig | None = None


@dataclass(frozen=True)
class Source:
    """What a source brings to each of its destinations' routes."""

    name: str
    sidecar: SidecarConfiguration | None
    traffic: Mapping[str, tuple[RuleRef, ...]]
    policies: tuple[tuple[SidecarPolicy, frozenset[str] | None, str], ...]
    routing_key: str

    def rules(self, destination: str) -> tuple[RuleRef, ...]:
        return self.traffic.get(destination, ())

    def policies_for(self, destination: str) -> list[SidecarPolicy]:
        return [p for p, d, _ in self.policies if d is None or destination in d]

    def signature(self, destination: str, *extra: object) -> Signature:
        rules = tuple((p.namespace, p.name, i) for p, i, _ in self.rules(destination))
        policies = tuple(k for _, d, k in self.policies if d is None or destination in d)
        return (destination, self.routing_key, rules, policies, *extra)


@dataclass
class StateIndex:
    """Everything derived from one state that several nodes reuse."""

    resolved: dict[str, frozenset[str]] = field(default_factory=dict)
    by_source: dict[str, list[TrafficPolicy]] | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    facts: dict[str, DestinationFacts] = field(default_factory=dict)
    entries: dict[Signature, tuple[Entry, ...]] = field(default_factory=dict)
    vhosts: dict[Signature, rc.VirtualHost] = field(default_factory=dict)
    destinations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    listeners: dict[tuple[str, int], lst_pb2.Listener] = field(default_factory=dict)


_INDEXES: dict[int, StateIndex] = {}


def index_of(state: MeshState) -> StateIndex:
    key = id(state)
    found = _INDEXES.get(key)
    if found is None:
        found = _INDEXES[key] = StateIndex()
        weakref.finalize(state, _INDEXES.pop, key, None)
    return found


def resolve(state: MeshState, selector: str) -> frozenset[str]:
    cache = index_of(state).resolved
    found = cache.get(selector)
    if found is None:
        found = cache[selector] = state.resolve(selector)
    return found


def facts_of(state: MeshState, name: str) -> DestinationFacts:
    cache = index_of(state).facts
    found = cache.get(name)
    if found is None:
        found = cache[name] = destination_facts(state, name)
    return found


def labels(state: MeshState, name: str) -> Mapping[str, str]:
    """`metadata.labels` of a service's primary registration (a Lucid extension)."""
    service = state.services.get(name)
    metadata = service.primary.registration.metadata if service is not None else None
    value = (metadata.model_extra or {}).get("labels") if metadata is not None else None
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _contains(found: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    return all(found.get(k) == v for k, v in (wanted or {}).items())


def _traffic_by_source(state: MeshState) -> dict[str, list[TrafficPolicy]]:
    index = index_of(state)
    if index.by_source is None:
        by_source: dict[str, list[TrafficPolicy]] = defaultdict(list)
        ordered = sorted(state.traffic_policies, key=lambda p: (-p.priority, p.name, p.namespace))
        for policy in ordered:
            if policy.enabled and any(isinstance(r, ROUTING_ACTIONS) for r in policy.rules):
                for name in sorted(resolve(state, policy.source)):
                    by_source[name].append(policy)
        index.by_source = dict(by_source)
    return index.by_source


def source(state: MeshState, name: str) -> Source:
    """The source context of `name`, once per state."""
    cache = index_of(state).sources
    found = cache.get(name)
    if found is not None:
        return found
    own = labels(state, name)
    traffic: dict[str, list[RuleRef]] = defaultdict(list)
    for policy in _traffic_by_source(state).get(name, []):
        targets = sorted(resolve(state, policy.destination))
        for number, rule in enumerate(policy.rules):
            if not isinstance(rule, ROUTING_ACTIONS):
                continue
            wanted = rule.match
            if wanted is not None and not _contains(own, wanted.sourceLabels):
                continue
            for target in targets:
                if wanted is None or _contains(labels(state, target), wanted.destinationLabels):
                    traffic[target].append((policy, number, rule))
    sidecar = state.sidecar_of_service(name)
    policies: list[tuple[SidecarPolicy, frozenset[str] | None, str]] = []
    if sidecar is not None:
        chosen = sorted(
            (p for p in sidecar.policies if p.enabled and p.type in ("retry", "timeout")),
            key=lambda p: (-p.priority, p.policyId),
        )
        for chosen_policy in chosen:
            conditions = chosen_policy.conditions
            if (
                conditions is not None
                and conditions.source is not None
                and name not in resolve(state, conditions.source)
            ):
                continue
            selector = conditions.destination if conditions is not None else None
            targets_of = resolve(state, selector) if selector is not None else None
            policies.append((chosen_policy, targets_of, chosen_policy.model_dump_json()))
    routing_key = ""
    if sidecar is not None:
        routing = sidecar.routing
        routing_key = "|".join(
            value.model_dump_json() if value is not None else ""
            for value in (routing.retry, routing.timeout)
        )
    found = cache[name] = Source(
        name=name,
        sidecar=sidecar,
        traffic=MappingProxyType({k: tuple(v) for k, v in traffic.items()}),
        policies=tuple(policies),
        routing_key=routing_key,
    )
    return found


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
            if merged is None:
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
        route_retry.model_dump_json() if route_retry is not None else "",
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
            name=destination,
            domains=[destination] if proxyless else domains(destination),
            routes=render_entries(state, entries, proxyless),
        )
    return found
