"""`MeshState`: one immutable, sorted snapshot of everything the translators read.

Translators must be pure and deterministic (resource versions are hashes of their bytes),
so they never look at the store, a clock or the order documents happened to arrive in.
`build_state` takes the validated models once, groups registrations by service name,
sorts everything, and freezes it: services and instances are frozen dataclasses in
tuples (hashable, so a translator can memoise per destination), the rest are read-only
mappings. Selector resolution lives here too, because it depends only on who is
registered and every translator resolves selectors the same way.

Registration health comes from the registry (the stored `status`, which is not part of
the spec model), so it is an optional input mapping serviceId → status.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import itertools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args

from lucid.models import (
    SecurityPolicy,
    ServiceRegistration,
    SidecarConfiguration,
    TrafficPolicy,
)

Status = Literal["healthy", "unhealthy", "unknown", "degraded", "expired"]
STATUSES: tuple[str, ...] = get_args(Status)
_EMPTY: Mapping[str, Status] = MappingProxyType({})


@functools.lru_cache(maxsize=65536)
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _weight(registration: ServiceRegistration) -> int:
    """Endpoint weight from `metadata.weight` (a whole number ≥ 1), else 1."""
    extra = registration.metadata.model_extra if registration.metadata else None
    value = (extra or {}).get("weight")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return 1


@dataclass(frozen=True, slots=True)
class Instance:
    """One registered instance of a service, as the endpoint translators need it."""

    service_id: str
    instance_id: str | None
    host: str
    port: int
    protocol: str
    plane: str
    cluster: str
    status: Status
    weight: int
    # The model itself, for what the fields above do not carry (TLS, health check).
    # Compared, but not hashed: it may hold dicts.
    registration: ServiceRegistration = field(hash=False, repr=False)

    host_is_ip: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "host_is_ip", _is_ip(self.host))


@dataclass(frozen=True, slots=True)
class Service:
    """All instances registered under one serviceName, sorted by (host, port, serviceId).

    Cluster-wide settings (protocol, TLS, active health check) are read from the
    `primary` instance: the first by serviceId, so the choice never depends on order.
    """

    name: str
    instances: tuple[Instance, ...]
    # Derived once (translators read them for every caller and every selector).
    primary: Instance = field(init=False, compare=False, repr=False)
    planes: frozenset[str] = field(init=False, compare=False, repr=False)
    clusters: frozenset[str] = field(init=False, compare=False, repr=False)
    service_ids: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        instances = self.instances
        object.__setattr__(self, "primary", min(instances, key=lambda i: i.service_id))
        object.__setattr__(self, "planes", frozenset(i.plane for i in instances))
        object.__setattr__(self, "clusters", frozenset(i.cluster for i in instances))
        object.__setattr__(self, "service_ids", tuple(sorted({i.service_id for i in instances})))

    @property
    def live_instances(self) -> tuple[Instance, ...]:
        """Instances whose registration has not expired."""
        return tuple(i for i in self.instances if i.status != "expired")


@dataclass(frozen=True, slots=True)
class Identity:
    """A service's workload certificate chain and private key, PEM; its URI SAN is the
    service's SPIFFE id (`spiffe_id`)."""

    certificate_chain: str
    private_key: str = field(repr=False)


TRUST_DOMAIN = "lucid.mesh"


def spiffe_id(plane: str, service: str) -> str:
    """`spiffe://lucid.mesh/plane/<plane>/service/<service>`: the identity RBAC matches.

    The plane is part of the path so plane isolation is one prefix match.
    """
    return f"spiffe://{TRUST_DOMAIN}/plane/{plane}/service/{service}"


@dataclass(frozen=True, slots=True)
class StateInputs:
    """The registrations (in the order given), their statuses and the sidecars a state was
    built from: snapshots, so a caller mutating its own collections changes nothing here."""

    registrations: tuple[ServiceRegistration, ...]
    statuses: dict[str, Status]
    sidecars: tuple[SidecarConfiguration, ...]


@dataclass(frozen=True)
class MeshState:
    """Everything the translators read; build it with `build_state`."""

    services: Mapping[str, Service]
    sidecars: Mapping[str, SidecarConfiguration]
    traffic_policies: tuple[TrafficPolicy, ...]
    security_policies: tuple[SecurityPolicy, ...]
    # Workload certificates by service name, issued by the mesh CA (`lucid.ca`) outside
    # the translators, and the PEM trust bundle that verifies them; SDS serves both.
    identities: Mapping[str, Identity] = field(default_factory=lambda: MappingProxyType({}))
    trust_bundle: str | None = None
    # What `build_state` was given for services and sidecars, so the next build can see
    # by identity that nothing changed (an init field: `dataclasses.replace` keeps it).
    inputs: StateInputs | None = field(default=None, compare=False, repr=False)
    # Memo of what is derived from the fields above (selectors, policy indexes); it never
    # changes a result, only how often it is computed.
    _memo: dict[object, object] = field(default_factory=dict, init=False, compare=False, repr=False)

    def service(self, name: str) -> Service | None:
        return self.services.get(name)

    def sidecar_of_service(self, name: str) -> SidecarConfiguration | None:
        """The sidecar configuration of a service: that of its first serviceId having one.

        Instances of one service normally share a configuration; when they do not, the
        lowest serviceId wins, so the result is stable.
        """
        service = self.services.get(name)
        if service is None:
            return None
        for service_id in service.service_ids:
            sidecar = self.sidecars.get(service_id)
            if sidecar is not None:
                return sidecar
        return None

    def parent(self) -> MeshState | None:
        """The state this one was built from when both have the very same registrations
        (so every selector resolves alike): derived indexes are patched from its, not
        rebuilt. One generation only: building a child forgets the grandparent."""
        found = self._memo.get(_PARENT)
        return found if isinstance(found, MeshState) else None

    def with_identities(
        self, identities: Mapping[str, Identity], trust_bundle: str | None
    ) -> MeshState:
        """This state with the mesh CA's certificates (issued once the services are
        known), keeping its parent: selectors resolve alike, whatever the certificates."""
        state = replace(
            self,
            identities=MappingProxyType(dict(sorted(identities.items()))),
            trust_bundle=trust_bundle,
        )
        parent = self.parent()
        if parent is not None:
            state._memo[_PARENT] = parent
        return state

    def resolve(self, selector: str) -> frozenset[str]:
        """The registered service names a selector picks (memoised per state)."""
        key = ("resolve", selector)
        found = self._memo.get(key)
        if found is None:
            parent = self.parent()
            found = parent._memo.get(key) if parent is not None else None
            if found is None:
                found = self._resolve(selector)
            self._memo[key] = found
        assert isinstance(found, frozenset)
        return found

    def traffic_to(self, service: str) -> tuple[TrafficPolicy, ...]:
        """Enabled traffic policies whose destination picks `service`, in state order."""
        return self._index("traffic_to", "traffic_policies", "destination").get(service, ())

    def traffic_from(self, service: str) -> tuple[TrafficPolicy, ...]:
        """Enabled traffic policies whose source picks `service`, in state order."""
        return self._index("traffic_from", "traffic_policies", "source").get(service, ())

    def security_to(self, service: str) -> tuple[SecurityPolicy, ...]:
        """Enabled security policies whose destination picks `service`, in state order."""
        return self._index("security_to", "security_policies", "destination").get(service, ())

    def _index(self, name: str, collection: str, side: str) -> dict[str, tuple[Any, ...]]:
        found = self._memo.get(name)
        if found is None:

            def targets(policy: Any) -> frozenset[str]:
                return self.resolve(getattr(policy, side)) if policy.enabled else frozenset()

            policies = getattr(self, collection)
            parent = self.parent()
            before = parent._memo.get(name) if parent is not None else None
            if parent is not None and isinstance(before, dict):
                old = getattr(parent, collection)
                found = patch_index(before, old, policies, targets, _POLICY_ORDER)
            if found is None:
                found = group_index(policies, targets)
            self._memo[name] = found
        assert isinstance(found, dict)
        return found

    def _resolve(self, selector: str) -> frozenset[str]:
        """The registered service names a selector picks.

        `*` is every service; `cluster:X` and `plane:X` pick services with at least one
        instance in that cluster or plane; a glob (`*`, `?`) matches whole names; any other
        selector is a service name, picked if it is registered.
        """
        if selector.startswith("cluster:"):
            wanted = selector[len("cluster:") :]
            return frozenset(n for n, s in self.services.items() if wanted in s.clusters)
        if selector.startswith("plane:"):
            wanted = selector[len("plane:") :]
            return frozenset(n for n, s in self.services.items() if wanted in s.planes)
        if "*" in selector or "?" in selector:
            return frozenset(n for n in self.services if fnmatch.fnmatchcase(n, selector))
        return frozenset({selector}) if selector in self.services else frozenset()


def _instance(registration: ServiceRegistration, status: Status) -> Instance:
    return Instance(
        service_id=registration.serviceId,
        instance_id=registration.instanceId,
        host=registration.endpoint.host,
        port=registration.endpoint.port,
        protocol=registration.endpoint.protocol,
        plane=registration.plane,
        cluster=registration.cluster,
        status=status,
        weight=_weight(registration),
        registration=registration,
    )


_NO_SERVICES: Mapping[str, Service] = MappingProxyType({})


def _by_position(pair: tuple[ServiceRegistration, Status]) -> tuple[str, int, str]:
    registration = pair[0]
    return (registration.endpoint.host, registration.endpoint.port, registration.serviceId)


def _service(
    name: str, found: list[tuple[ServiceRegistration, Status]], before: Service | None
) -> Service:
    found.sort(key=_by_position)
    if (
        before is not None
        and len(before.instances) == len(found)
        and all(
            old.registration is registration and old.status == status
            for old, (registration, status) in zip(before.instances, found, strict=True)
        )
    ):
        return before
    return Service(name=name, instances=tuple(_instance(r, status) for r, status in found))


def build_state(
    registrations: Iterable[ServiceRegistration],
    sidecars: Iterable[SidecarConfiguration] = (),
    traffic_policies: Iterable[TrafficPolicy] = (),
    security_policies: Iterable[SecurityPolicy] = (),
    statuses: Mapping[str, Status] = _EMPTY,
    identities: Mapping[str, Identity] | None = None,
    trust_bundle: str | None = None,
    previous: MeshState | None = None,
) -> MeshState:
    """Freeze validated models into a `MeshState`; input order never matters.

    `statuses` maps serviceId to the registry's stored status; a registration without one
    is `unknown`. Unknown status strings are refused rather than guessed.

    With `previous`, a service whose registrations are the very same model objects with
    the same statuses keeps its previous `Service` object, so incremental translation
    (`lucid.translators.mesh.Translation`) can tell what changed by identity, in O(1).
    When the registrations (or sidecars) are the very objects `previous` was built from,
    in the same order, they are not even regrouped: a policy change or a health flip costs
    a pass at C speed, not a rebuild of every service.
    """
    inputs = StateInputs(tuple(registrations), dict(statuses), tuple(sidecars))
    before = previous.inputs if previous is not None else None
    if (
        previous is not None
        and before is not None
        and _same(inputs.registrations, before.registrations)
    ):
        services = _restatused(previous.services, inputs, before.statuses)
        parent: MeshState | None = previous
    else:
        parent = None
        services = _services(inputs, previous.services if previous is not None else _NO_SERVICES)
    if previous is not None and before is not None and _same(inputs.sidecars, before.sidecars):
        sidecar_map = previous.sidecars
    else:
        sidecar_map = MappingProxyType(
            {s.serviceId: s for s in sorted(inputs.sidecars, key=_SERVICE_ID)}
        )
    state = MeshState(
        services=services,
        sidecars=sidecar_map,
        traffic_policies=tuple(sorted(traffic_policies, key=_POLICY_ORDER)),
        security_policies=tuple(sorted(security_policies, key=_POLICY_ORDER)),
        identities=MappingProxyType(dict(sorted((identities or {}).items()))),
        trust_bundle=trust_bundle,
        inputs=inputs,
    )
    if parent is not None:
        parent._memo.pop(_PARENT, None)
        state._memo[_PARENT] = parent
    return state


_POLICY_ORDER = operator.attrgetter("namespace", "name")
_SERVICE_ID = operator.attrgetter("serviceId")


def _same(now: tuple[object, ...], before: tuple[object, ...]) -> bool:
    """The very same objects, in the same order (a C-speed pass, no comparison of content)."""
    return len(now) == len(before) and all(map(operator.is_, now, before))


def _services(inputs: StateInputs, before: Mapping[str, Service]) -> Mapping[str, Service]:
    grouped: dict[str, list[tuple[ServiceRegistration, Status]]] = defaultdict(list)
    statuses = inputs.statuses
    for registration in inputs.registrations:
        status = statuses.get(registration.serviceId, "unknown")
        if status not in STATUSES:
            raise ValueError(f"unknown registration status {status!r}")
        grouped[registration.serviceName].append((registration, status))
    return MappingProxyType(
        {name: _service(name, found, before.get(name)) for name, found in sorted(grouped.items())}
    )


def _restatused(
    services: Mapping[str, Service], inputs: StateInputs, statuses_before: Mapping[str, str]
) -> Mapping[str, Service]:
    """The previous services with new statuses applied: only the services of instances
    whose status changed are rebuilt (a health check flips one instance)."""
    statuses = inputs.statuses
    if statuses == statuses_before:
        return services
    changed = {
        sid
        for sid in statuses.keys() | statuses_before.keys()
        if statuses.get(sid) != statuses_before.get(sid)
    }
    for sid in changed:
        if statuses.get(sid, "unknown") not in STATUSES:
            raise ValueError(f"unknown registration status {statuses[sid]!r}")
    names = {r.serviceName for r in inputs.registrations if r.serviceId in changed}
    rebuilt = dict(services)
    for name in names:
        found = [
            (i.registration, statuses.get(i.service_id, "unknown"))
            for i in services[name].instances
        ]
        rebuilt[name] = _service(name, found, services[name])
    return MappingProxyType(rebuilt)


_PARENT = "parent state"
# A patch touching more policies than this is slower than grouping them all again.
_PATCH_LIMIT = 32

P = TypeVar("P")


def group_index(
    policies: Iterable[P], targets: Callable[[P], Iterable[str]]
) -> dict[str, tuple[P, ...]]:
    """Policies grouped under each service `targets` names, in the order given."""
    grouped: dict[str, list[P]] = defaultdict(list)
    for policy in policies:
        for service in targets(policy):
            grouped[service].append(policy)
    return {k: tuple(v) for k, v in grouped.items()}


def patch_index(
    before: Mapping[str, tuple[P, ...]],
    old: Sequence[P],
    new: Sequence[P],
    targets: Callable[[P], Iterable[str]],
    order: Callable[[P], Any],
) -> dict[str, tuple[P, ...]] | None:
    """`group_index(new)` from `before = group_index(old)`, when `new` is `old` with a few
    policies replaced in place (same length; `targets` resolving alike for both states),
    re-sorting only the services they touch; None when that does not hold."""
    if len(old) != len(new):
        return None
    changed = list(itertools.compress(range(len(new)), map(operator.is_not, old, new)))
    if len(changed) > _PATCH_LIMIT:
        return None
    gone = {id(old[i]) for i in changed}
    came = [new[i] for i in changed]
    touched: set[str] = set()
    for i in changed:
        touched.update(targets(old[i]))
        touched.update(targets(new[i]))
    result = dict(before)
    for service in touched:
        kept = [p for p in result.get(service, ()) if id(p) not in gone]
        kept.extend(p for p in came if service in targets(p))
        kept.sort(key=order)
        if kept:
            result[service] = tuple(kept)
        else:
            result.pop(service, None)
    return result
