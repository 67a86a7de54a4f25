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
is memoised per message object: resources shared by many nodes are walked once.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def _may_reference(descriptor: Descriptor) -> bool:
    """Whether a message of this type can hold a reference, directly or inside.

    Most of a listener's bytes are RBAC principals and matchers, which never name a
    resource; knowing it per type lets the walk skip them without looking.
    """
    name = descriptor.full_name
    found = _MAY_REFERENCE.get(name)
    if found is not None:
        return found
    _MAY_REFERENCE[name] = False  # a recursive type does not reference through itself
    result = name in (_SDS_SECRET, _CLUSTER, _ANY) or any(
        (name, field.name) in _REFERENCES
        or (field.type == FieldDescriptor.TYPE_MESSAGE and _may_reference(field.message_type))
        for field in descriptor.fields
    )
    _MAY_REFERENCE[name] = result
    return result


def _route_references(config: Message, out: list[tuple[TypeUrl, str]]) -> None:
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


def _walk(message: Message, out: list[tuple[TypeUrl, str]]) -> None:
    """Append every reference inside `message` to `out` (a plain recursion: generators
    chained this deep cost more than the walk itself)."""
    descriptor = message.DESCRIPTOR
    full_name = descriptor.full_name
    if full_name == _ROUTE_CONFIGURATION:
        _route_references(message, out)
        return
    if full_name == _SDS_SECRET and message.HasField("sds_config"):
        out.append((SECRET, str(message.name)))
    elif full_name == _CLUSTER and message.type == cluster_pb2.Cluster.EDS:
        out.append((ENDPOINT, str(message.eds_cluster_config.service_name or message.name)))
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            target = _REFERENCES.get((full_name, field.name))
            if target is not None and value:
                out.append((target, str(value)))
            continue
        child_type = field.message_type
        if not _may_reference(child_type):
            continue
        if child_type.GetOptions().map_entry:
            children = list(value.values())
        elif field.is_repeated:
            children = list(value)
        else:
            children = [value]
        for child in children:
            if child_type.full_name == _ANY:
                inner = _unpack(child)
                if inner is not None:
                    _walk(inner, out)
            elif isinstance(child, Message):
                _walk(child, out)


class ReferenceIndex:
    """References of each resource, computed once per message object.

    A translation's index takes what it can from its predecessor's (`parent`), so a
    resource shared across states is walked once; one generation only, so memory stays
    bounded by what two states hold.
    """

    def __init__(self, parent: ReferenceIndex | None = None) -> None:
        self._cache: dict[int, tuple[Message, frozenset[tuple[TypeUrl, str]]]] = {}
        self._parent = parent

    def forget_parent(self) -> None:
        self._parent = None

    def references(self, message: Message) -> frozenset[tuple[TypeUrl, str]]:
        key = id(message)
        found = self._cache.get(key)
        if found is None and self._parent is not None:
            found = self._parent._cache.get(key)
        if found is not None and found[0] is message:
            self._cache[key] = found
            return found[1]
        found_refs: list[tuple[TypeUrl, str]] = []
        if _may_reference(message.DESCRIPTOR):
            _walk(message, found_refs)
        refs = frozenset(found_refs)
        self._cache[key] = (message, refs)
        return refs


def dangling_references(
    resources: Mapping[TypeUrl, Mapping[str, Message]], index: ReferenceIndex | None = None
) -> list[Dangling]:
    """Every reference in `resources` whose target is missing, sorted."""
    index = index or ReferenceIndex()
    missing: list[Dangling] = []
    for owner_type, named in resources.items():
        for owner, message in named.items():
            for type_url, name in index.references(message):
                if name not in resources.get(type_url, {}):
                    missing.append(Dangling(owner_type, owner, type_url, name))
    return sorted(missing, key=lambda d: (d.owner_type, d.owner, d.type_url, d.name))
