"""Per-state memo and source contexts: what the outbound translators derive from a
`MeshState` once and reuse for every node.

`StateIndex` holds, for one state, resolved selectors, destination facts, source
contexts, destinations, entries, virtual hosts and outbound listeners. It lives in a table
keyed by the state's identity and is dropped when the state is garbage collected; output
depends only on the state, so translators stay pure, and sources sharing a signature
share messages.

A `Source` is what a service brings to its outbound routes:

- the traffic policies whose `source` selects it (enabled, with a redirect, mirror or
  weighted-split rule), ordered by priority (higher first), then name and namespace; each
  rule applies to the destinations the policy's `destination` selects. A rule's
  `sourceLabels` / `destinationLabels` are checked at compile time against
  `metadata.labels` (a Lucid extension of the open metadata) of the source's and the
  destination's primary registrations (the lowest serviceId);
- its sidecar's enabled `retry` and `timeout` policies, by priority then policyId;
  `conditions.destination` (absent: every destination) says which destinations they
  apply to; one whose `conditions.source` does not select the service itself never does;
- a key of its routing defaults (`routing.retry`, `routing.timeout`).

A rule's `weight` is not used: a split carries its weights in its parameters, and no other
action has a share of traffic to give.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_components_pb2 as rc

from lucid.models import SidecarConfiguration, TrafficPolicy
from lucid.models.common import content_key
from lucid.models.rules import (
    TrafficMirrorRule,
    TrafficRedirectRule,
    TrafficRule,
    TrafficWeightedSplitRule,
)
from lucid.models.sidecar import SidecarPolicy
from lucid.translators.route_actions import Entry
from lucid.translators.route_policies import DestinationFacts, destination_facts
from lucid.translators.state import MeshState, group_index, patch_index

ROUTING_ACTIONS = (TrafficRedirectRule, TrafficMirrorRule, TrafficWeightedSplitRule)
RuleRef = tuple[TrafficPolicy, int, TrafficRule]
Signature = tuple[object, ...]


@dataclass(frozen=True)
class Source:
    """What a source brings to each of its destinations' routes."""

    name: str
    sidecar: SidecarConfiguration | None
    traffic: Mapping[str, tuple[RuleRef, ...]]
    policies: tuple[tuple[SidecarPolicy, frozenset[str] | None, Hashable], ...]
    routing_key: Hashable

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
    by_source: dict[str, tuple[TrafficPolicy, ...]] | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    facts: dict[str, DestinationFacts] = field(default_factory=dict)
    entries: dict[Signature, tuple[Entry, ...]] = field(default_factory=dict)
    vhosts: dict[Signature, rc.VirtualHost] = field(default_factory=dict)
    destinations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    listeners: dict[Hashable, listener_pb2.Listener] = field(default_factory=dict)


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


def _source_order(policy: TrafficPolicy) -> tuple[int, str, str]:
    return (-policy.priority, policy.name, policy.namespace)


def _traffic_by_source(state: MeshState) -> dict[str, tuple[TrafficPolicy, ...]]:
    """Enabled traffic policies with routing rules, under each service they select as
    source, by priority (highest first), then name."""
    index = index_of(state)
    if index.by_source is None:

        def targets(policy: TrafficPolicy) -> frozenset[str]:
            routing = policy.enabled and any(isinstance(r, ROUTING_ACTIONS) for r in policy.rules)
            return resolve(state, policy.source) if routing else frozenset()

        parent = state.parent()
        before = _INDEXES.get(id(parent)) if parent is not None else None
        found = None
        if parent is not None and before is not None and before.by_source is not None:
            found = patch_index(
                before.by_source,
                parent.traffic_policies,
                state.traffic_policies,
                targets,
                _source_order,
            )
        if found is None:
            found = group_index(sorted(state.traffic_policies, key=_source_order), targets)
        index.by_source = found
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
    policies: list[tuple[SidecarPolicy, frozenset[str] | None, Hashable]] = []
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
            policies.append((chosen_policy, targets_of, content_key(chosen_policy)))
    routing_key: Hashable = None
    if sidecar is not None:
        routing_key = (content_key(sidecar.routing.retry), content_key(sidecar.routing.timeout))
    found = cache[name] = Source(
        name=name,
        sidecar=sidecar,
        traffic=MappingProxyType({k: tuple(v) for k, v in traffic.items()}),
        policies=tuple(policies),
        routing_key=routing_key,
    )
    return found
