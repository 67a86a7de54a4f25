"""Check a node's resources before publishing: every name they reference must exist.

Envoy fetches what a resource names: a cluster of type EDS waits for its load assignment,
a listener's HTTP connection manager for its route configuration, a TLS context for its
SDS secrets, a route for its clusters. If one of them never arrives the cluster or
listener warms forever, or requests get a 503 for a missing cluster. So, like
go-control-plane's `Snapshot.Consistent()`, nothing is pushed to a node until every
reference in its view resolves; an inconsistent view is a bug in translation, reported
with every dangling name, and the node keeps its last good configuration.

References are found by walking the messages (unpacking `Any` through the protobuf symbol
database), so a new translator cannot add a reference this check does not see. The walk
is memoised per message object (resources shared by many nodes are walked once) and per
distinct packed `Any` (the same filter config sits in many listeners); it reads only the
fields whose type can lead to a reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from envoy.config.cluster.v3 import cluster_pb2
from google.protobuf import any_pb2, symbol_database
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from lucid.xds.resources import CLUSTER, ENDPOINT, ROUTE, SECRET, SHORT_NAMES, TypeUrl

# (message type, field) → the resource type the field's value names.
_REFERENCES: dict[tuple[str, str], TypeUrl] = {
    ("envoy.config.route.v3.RouteAction", "cluster"): CLUSTER,
    ("envoy.config.route.v3.WeightedCluster.ClusterWeight", "name"): CLUSTER,
    ("envoy.config.route.v3.RouteAction.RequestMirrorPolicy", "cluster"): CLUSTER,
    ("envoy.config.core.v3.GrpcService.EnvoyGrpc", "cluster_name"): CLUSTER,
    ("envoy.config.core.v3.HttpUri", "cluster"): CLUSTER,
    ("envoy.extensions.filters.network.http_connection_manager.v3.Rds", "route_config_name"): (
        ROUTE
    ),
}
_SDS_SECRET = "envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig"
_CLUSTER = "envoy.config.cluster.v3.Cluster"
_ANY = "google.protobuf.Any"
_ROUTE_CONFIGURATION = "envoy.config.route.v3.RouteConfiguration"
_SYMBOLS = symbol_database.Default()
Reference = tuple[TypeUrl, str]


@dataclass(frozen=True, slots=True)
class Dangling:
    """One reference that does not resolve: `owner` (type, name) names `name` of `type_url`."""

    owner_type: TypeUrl
    owner: str
    type_url: TypeUrl
    name: str

    def __str__(self) -> str:
        return (
            f"{SHORT_NAMES[self.owner_type]} {self.owner!r} names "
            f"{SHORT_NAMES[self.type_url]} {self.name!r}, which does not exist"
        )


class InconsistentResources(ValueError):
    """A node's resources reference names that are not in its view."""

    def __init__(self, node: str, dangling: list[Dangling]) -> None:
        self.node = node
        self.dangling = dangling
        listed = "; ".join(str(d) for d in dangling[:10])
        more = f" (and {len(dangling) - 10} more)" if len(dangling) > 10 else ""
        super().__init__(f"node {node!r}: {listed}{more}")


def _unpack(packed: any_pb2.Any) -> Message | None:
    """The message inside, or None when its type is unknown or cannot reference anything
    (then it is not even parsed: RBAC filters are large and name no resource)."""
    try:
        cls = _SYMBOLS.GetSymbol(packed.type_url.rpartition("/")[2])
    except KeyError:
        return None
    if not _may_reference(cls.DESCRIPTOR):
        return None
    message: Message = cls()
    packed.Unpack(message)
    return message


_MAY_REFERENCE: dict[str, bool] = {}
# Data for filters to read, never a name Envoy resolves, though it may hold an `Any`.
_DATA_ONLY = frozenset({"envoy.config.core.v3.Metadata", "google.protobuf.Struct"})


def _may_reference(descriptor: Descriptor) -> bool:
    """Whether a message of this type can hold a reference, directly or inside.

    Most of a listener's bytes are RBAC principals and matchers, which never name a
    resource; knowing it per type lets the walk skip them without looking.
    """
    name = descriptor.full_name
    found = _MAY_REFERENCE.get(name)
    if found is not None:
        return found
    if name in _DATA_ONLY:
        return False
    _MAY_REFERENCE[name] = False  # a recursive type does not reference through itself
    result = name in (_SDS_SECRET, _CLUSTER, _ANY) or any(
        (name, field.name) in _REFERENCES
        or (field.type == FieldDescriptor.TYPE_MESSAGE and _may_reference(field.message_type))
        for field in descriptor.fields
    )
    _MAY_REFERENCE[name] = result
    return result


# How to walk one message type: per field that may hold a reference, its name and kind,
# and for message fields whether the value is an `Any`. Reading only those fields (rather
# than `ListFields()`, which wraps every set field) halves the walk.
_SCALAR, _SINGULAR, _REPEATED, _MAP = range(4)
_Step = tuple[str, int, bool, TypeUrl | None]
_PLANS: dict[Descriptor, tuple[_Step, ...]] = {}


def _plan(descriptor: Descriptor) -> tuple[_Step, ...]:
    name = descriptor.full_name
    steps: list[_Step] = []
    for field in descriptor.fields:
        target = _REFERENCES.get((name, field.name))
        if target is not None:
            steps.append((field.name, _SCALAR, False, target))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and _may_reference(field.message_type):
            child = field.message_type
            if child.GetOptions().map_entry:
                value = child.fields_by_name["value"]
                if value.type != FieldDescriptor.TYPE_MESSAGE:
                    continue
                steps.append((field.name, _MAP, value.message_type.full_name == _ANY, None))
            else:
                kind = _REPEATED if field.is_repeated else _SINGULAR
                steps.append((field.name, kind, child.full_name == _ANY, None))
    found = _PLANS[descriptor] = tuple(steps)
    return found


def _route_references(config: Message, out: list[Reference]) -> None:
    """A route configuration's clusters, read directly: route tables are the bulk of
    what is checked, and only a route's action can name a cluster."""
    for host in config.virtual_hosts:
        for route in host.routes:
            if not route.HasField("route"):
                continue
            action = route.route
            if action.cluster:
                out.append((CLUSTER, str(action.cluster)))
            for weighted in action.weighted_clusters.clusters:
                out.append((CLUSTER, str(weighted.name)))
            for mirror in action.request_mirror_policies:
                out.append((CLUSTER, str(mirror.cluster)))


_SPECIAL = frozenset(
    _SYMBOLS.GetSymbol(name).DESCRIPTOR for name in (_ROUTE_CONFIGURATION, _SDS_SECRET, _CLUSTER)
)


class _Walker:
    """Collects references; an `Any` is unpacked and walked once per distinct content
    (the same filter config, TLS context or access log sits in many resources)."""

    def __init__(self, packed: dict[tuple[str, bytes], tuple[Reference, ...]]) -> None:
        self._packed = packed

    def walk(self, message: Message, out: list[Reference]) -> None:
        """Append every reference inside `message` to `out` (a plain recursion: generators
        chained this deep cost more than the walk itself)."""
        descriptor = message.DESCRIPTOR
        plan = _PLANS.get(descriptor)
        if plan is None:
            plan = _plan(descriptor)
        if descriptor in _SPECIAL:
            full_name = descriptor.full_name
            if full_name == _ROUTE_CONFIGURATION:
                _route_references(message, out)
                return
            if full_name == _SDS_SECRET and message.HasField("sds_config"):
                out.append((SECRET, str(message.name)))
            elif full_name == _CLUSTER and message.type == cluster_pb2.Cluster.EDS:
                service = message.eds_cluster_config.service_name or message.name
                out.append((ENDPOINT, str(service)))
        for name, kind, is_any, target in plan:
            if kind == _SCALAR:
                value = getattr(message, name)
                if value:
                    out.append((target, str(value)))  # type: ignore[arg-type]
                continue
            if kind == _SINGULAR:
                if not message.HasField(name):
                    continue
                children: Iterable[Message] = (getattr(message, name),)
            elif kind == _REPEATED:
                children = getattr(message, name)
            else:
                children = getattr(message, name).values()
            for child in children:
                if is_any:
                    out.extend(self._any(child))
                else:
                    self.walk(child, out)

    def _any(self, packed: any_pb2.Any) -> tuple[Reference, ...]:
        key = (packed.type_url, packed.value)
        found = self._packed.get(key)
        if found is None:
            refs: list[Reference] = []
            inner = _unpack(packed)
            if inner is not None:
                self.walk(inner, refs)
            found = self._packed[key] = tuple(refs)
        return found


class ReferenceIndex:
    """References of each resource, computed once per message object.

    A translation's index takes what it can from its predecessor's (`parent`), so a
    resource shared across states is walked once; one generation only, so memory stays
    bounded by what two states hold.
    """

    def __init__(self, parent: ReferenceIndex | None = None) -> None:
        self._cache: dict[int, tuple[Message, frozenset[Reference]]] = {}
        self._packed: dict[tuple[str, bytes], tuple[Reference, ...]] = (
            dict(parent._packed) if parent is not None else {}
        )
        self._walker = _Walker(self._packed)
        self._parent = parent

    def forget_parent(self) -> None:
        self._parent = None

    def references(self, message: Message) -> frozenset[Reference]:
        key = id(message)
        found = self._cache.get(key)
        if found is None and self._parent is not None:
            found = self._parent._cache.get(key)
        if found is not None and found[0] is message:
            self._cache[key] = found
            return found[1]
        found_refs: list[Reference] = []
        if _may_reference(message.DESCRIPTOR):
            self._walker.walk(message, found_refs)
        refs = frozenset(found_refs)
        self._cache[key] = (message, refs)
        return refs


def dangling_references(
    resources: Mapping[TypeUrl, Mapping[str, Message]], index: ReferenceIndex | None = None
) -> list[Dangling]:
    """Every reference in `resources` whose target is missing, sorted."""
    index = index or ReferenceIndex()
    references = index.references
    named_refs = [references(m) for named in resources.values() for m in named.values()]
    wanted: set[Reference] = set().union(*named_refs)
    present = {(t, n) for t, named in resources.items() for n in named}
    if wanted <= present:  # the usual case, decided by set operations alone
        return []
    missing: list[Dangling] = []
    for owner_type, named in resources.items():
        for owner, message in named.items():
            for type_url, name in references(message):
                if (type_url, name) not in present:
                    missing.append(Dangling(owner_type, owner, type_url, name))
    return sorted(missing, key=lambda d: (d.owner_type, d.owner, d.type_url, d.name))
