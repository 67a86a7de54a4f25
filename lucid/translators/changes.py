"""What changed between two mesh states, so a translation rebuilds only what depends on it.

A change in a 1,000-service mesh usually touches one policy or one instance's health; the
incremental target (DESIGN.md: under 10 ms) leaves no room to rebuild every node. This
module compares two `MeshState`s by object identity — `build_state(previous=...)` keeps
an unchanged service's `Service` object, and the store loader keeps unchanged documents'
model objects — and names what is dirty:

- `services`: a service whose instances, registrations or health changed;
- `registrations`: the subset whose registrations changed, not only their health (a
  health flip changes endpoints, never routes or listeners);
- `sidecars`: a service whose sidecar configuration changed;
- `sources` / `destinations`: services a changed traffic or security policy selects, in
  the old state and in the new one (a policy can stop selecting a service);
- `identities`, `trust`: certificates reissued;
- `topology`: the set of services or their planes, clusters or metadata changed, which
  can change what any selector resolves to, so every route and listener is rebuilt.

`lucid.translators.mesh.Translation` turns these into reuse decisions; the property test
in tests/unit/translators checks that incremental and full translations give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lucid.models import SecurityPolicy, TrafficPolicy
from lucid.translators.state import MeshState, Service

Policy = TrafficPolicy | SecurityPolicy


@dataclass(frozen=True, slots=True)
class Changes:
    topology: bool
    services: frozenset[str]
    registrations: frozenset[str]
    sidecars: frozenset[str]
    sources: frozenset[str]
    destinations: frozenset[str]
    identities: frozenset[str]
    trust: bool


def _keyed(policies: Iterable[Policy]) -> dict[tuple[str, str], Policy]:
    return {(p.namespace, p.name): p for p in policies}


def _changed_policies(
    before: Iterable[Policy], after: Iterable[Policy]
) -> tuple[list[Policy], list[Policy]]:
    """(old versions, new versions) of the policies that differ by identity."""
    old, new = _keyed(before), _keyed(after)
    gone = [p for key, p in old.items() if new.get(key) is not p]
    came = [p for key, p in new.items() if old.get(key) is not p]
    return gone, came


def _selected(state: MeshState, policies: Iterable[Policy], side: str) -> set[str]:
    names: set[str] = set()
    for policy in policies:
        names |= state.resolve(getattr(policy, side))
    return names


def _shape(service: Service) -> tuple[object, ...]:
    """What selectors and identities read of a service: planes, clusters, metadata."""
    return (
        service.planes,
        service.clusters,
        tuple(
            i.registration.metadata.model_dump_json() if i.registration.metadata else ""
            for i in service.instances
        ),
    )


def _different(before: Mapping[str, object], after: Mapping[str, object]) -> frozenset[str]:
    keys = before.keys() | after.keys()
    return frozenset(k for k in keys if before.get(k) is not after.get(k))


def changes(before: MeshState, after: MeshState) -> Changes:
    services = _different(before.services, after.services)
    registrations = frozenset(
        name
        for name in services
        if name not in before.services
        or name not in after.services
        or tuple(i.registration for i in before.services[name].instances)
        != tuple(i.registration for i in after.services[name].instances)
    )
    topology = before.services.keys() != after.services.keys() or any(
        _shape(before.services[n]) != _shape(after.services[n])
        for n in registrations
        if n in before.services and n in after.services
    )
    sidecars = frozenset(
        name
        for name in after.services.keys() | before.services.keys()
        if before.sidecar_of_service(name) is not after.sidecar_of_service(name)
    )
    gone_traffic, new_traffic = _changed_policies(before.traffic_policies, after.traffic_policies)
    gone_security, new_security = _changed_policies(
        before.security_policies, after.security_policies
    )
    sources = _selected(before, gone_traffic, "source") | _selected(after, new_traffic, "source")
    destinations = _selected(before, [*gone_traffic, *gone_security], "destination") | _selected(
        after, [*new_traffic, *new_security], "destination"
    )
    return Changes(
        topology=topology,
        services=services,
        registrations=registrations,
        sidecars=sidecars,
        sources=frozenset(sources),
        destinations=frozenset(destinations),
        identities=_different(before.identities, after.identities),
        trust=before.trust_bundle != after.trust_bundle,
    )
