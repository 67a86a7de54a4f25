"""One translation of a `MeshState`: the resources each node receives, built once and shared.

The expensive part of a mesh is N sidecars times M destinations (DESIGN.md, performance), so
nothing here is built per node that does not depend on the node: a destination's cluster
and load assignment are built once per state; a service's route configurations once per
service and shared by its instances; a node's listeners once per distinct `Node` value.
`Translation` memoises those; `NodeResources` is what one node receives, by type URL and
name, in the ADS order.

Before anything is published `check_consistency` follows every reference — an EDS cluster
names its load assignment, a listener its route configuration, a TLS context its secrets,
a route its clusters — and refuses a node view that names something missing (as
go-control-plane's `Snapshot.Consistent()` does): Envoy would otherwise warm forever or
route to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from google.protobuf.message import Message

from lucid.translators import inbound, outbound, routes, secrets
from lucid.translators.changes import changes
from lucid.translators.clusters import cluster
from lucid.translators.consistency import InconsistentResources, ReferenceIndex, dangling_references
from lucid.translators.endpoints import algorithm_of, load_assignment, uses_eds
from lucid.translators.mtls import mtls_of
from lucid.translators.node import Node
from lucid.translators.state import MeshState
from lucid.xds.resources import ADS_ORDER, CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, TypeUrl

Resources = Mapping[TypeUrl, Mapping[str, Message]]


@dataclass(frozen=True)
class NodeResources:
    """Everything one node receives: type URL → name → message, names sorted."""

    node: Node
    resources: Resources

    def names(self, type_url: TypeUrl) -> tuple[str, ...]:
        return tuple(self.resources.get(type_url, {}))


class Translation:
    """Translators applied to one state; per-destination and per-service parts memoised.

    With `previous` (the translation of the state before), whatever does not depend on a
    change (`lucid.translators.changes`) is taken from it as the very same object, so
    the cache sees by identity, in O(1), which resources and which nodes are unchanged.
    """

    _previous: Translation | None
    _references: ReferenceIndex

    def __init__(self, state: MeshState, previous: Translation | None = None) -> None:
        self.state = state
        self._clusters: dict[str, cluster_pb2.Cluster] = {}
        self._assignments: dict[str, endpoint_pb2.ClusterLoadAssignment | None] = {}
        self._routes: dict[tuple[str, bool], tuple[Message, ...]] = {}
        self._nodes: dict[Node, NodeResources] = {}
        self._shaped: dict[Node, Resources] = {}
        self._destinations: dict[str, tuple[str, ...]] = {}
        self._references = ReferenceIndex(previous._references if previous is not None else None)
        # Only one generation back: the previous translation forgets its own predecessor,
        # so a long-running server does not keep every state it ever had.
        if previous is not None:
            previous._previous = None
            previous._references.forget_parent()
        self._previous = previous
        self._changes = changes(previous.state, state) if previous is not None else None

    # What may be reused from the previous translation -----------------------------------

    def _cluster_clean(self, service: str) -> bool:
        c = self._changes
        # A cluster reads only its own service and that service's sidecar configuration.
        return c is not None and not (service in c.services or service in c.sidecars)

    def _assignment_clean(self, service: str) -> bool:
        c = self._changes
        return c is not None and not (service in c.services or service in c.sidecars)

    def _routes_clean(self, service: str) -> bool:
        c = self._changes
        if c is None or c.topology:
            return False
        if service in c.registrations or service in c.sidecars or service in c.sources:
            return False
        assert self._previous is not None
        return not any(
            d in c.registrations or d in c.sidecars for d in self._previous.destinations(service)
        )

    def _node_clean(self, node: Node) -> bool:
        c = self._changes
        if c is None or c.trust or not self._routes_clean(node.service):
            return False
        service = node.service
        if service in c.services or service in c.destinations or service in c.identities:
            return False
        assert self._previous is not None
        return all(
            self._cluster_clean(d) and self._assignment_clean(d)
            for d in self._previous.destinations(service)
        )

    # Memoised parts ---------------------------------------------------------------------

    def destinations(self, service: str) -> tuple[str, ...]:
        """Registered services a node of `service` reaches (its outbound clusters)."""
        found = self._destinations.get(service)
        if found is None:
            if self._previous is not None and self._routes_clean(service):
                found = self._previous.destinations(service)
            else:
                state = self.state
                found = tuple(d for d in routes.destinations(state, service) if d in state.services)
            self._destinations[service] = found
        return found

    def cluster(self, service: str) -> cluster_pb2.Cluster:
        found = self._clusters.get(service)
        if found is None:
            if self._previous is not None and self._cluster_clean(service):
                found = self._previous.cluster(service)
            else:
                found = cluster(self.state, self.state.services[service])
            self._clusters[service] = found
        return found

    def load_assignment(self, service: str) -> endpoint_pb2.ClusterLoadAssignment | None:
        """The EDS resource of a destination, or None when its cluster carries it inline."""
        if service in self._assignments:
            return self._assignments[service]
        found: endpoint_pb2.ClusterLoadAssignment | None
        if self._previous is not None and self._assignment_clean(service):
            found = self._previous.load_assignment(service)
        else:
            target = self.state.services[service]
            found = None
            if uses_eds(target):
                weighted = algorithm_of(self.state, service) == "weighted"
                found = load_assignment(target, weighted=weighted)
        self._assignments[service] = found
        return found

    def route_configurations(self, node: Node) -> tuple[Message, ...]:
        key = (node.service, node.is_gateway)
        found = self._routes.get(key)
        if found is None:
            if self._previous is not None and self._routes_clean(node.service):
                found = self._previous.route_configurations(node)
            else:
                found = tuple(routes.route_configurations(self.state, node))
            self._routes[key] = found
        return found

    def node(self, node: Node) -> NodeResources:
        found = self._nodes.get(node)
        if found is None:
            if self._previous is not None and self._node_clean(node):
                found = self._previous.node(node)
            else:
                found = NodeResources(node=node, resources=self._resources(_shape(node)))
            self._nodes[node] = found
        return found

    def _resources(self, shape: Node) -> Resources:
        """What every node of this shape receives (instances differ only in their ids)."""
        found = self._shaped.get(shape)
        if found is None:
            found = self._shaped[shape] = self._translate(shape)
        return found

    def check(self, resources: NodeResources) -> None:
        """Raise `InconsistentResources` when the node's view names something it lacks."""
        check_consistency(resources, self._references)

    def _translate(self, node: Node) -> Resources:
        state = self.state
        reachable = self.destinations(node.service)
        if node.proxyless:
            # gRPC clients take no SDS secrets, so they cannot originate mesh mTLS: a
            # destination that requires it is left out (docs/translation.md says so).
            reachable = tuple(d for d in reachable if mtls_of(state, d) is None)
        clusters: list[Message] = [self.cluster(d) for d in reachable]
        assignments: list[Message] = [
            a for a in (self.load_assignment(d) for d in reachable) if a is not None
        ]
        listeners: list[Message] = []
        route_configs: list[Message] = []
        node_secrets: list[Message] = []
        if node.proxyless:
            allowed = set(reachable)
            listeners.extend(
                listener
                for listener in outbound.proxyless_listeners(state, node)
                if listener.name in allowed
            )
        else:
            clusters.extend(inbound.local_clusters(state, node))
            listeners.append(outbound.outbound_listener(state, node))
            for listener in (
                inbound.inbound_listener(state, node),
                inbound.edge_listener(state, node),
            ):
                if listener is not None:
                    listeners.append(listener)
            route_configs.extend(self.route_configurations(node))
            inbound_routes = inbound.inbound_route_configuration(state, node)
            if inbound_routes is not None:
                route_configs.append(inbound_routes)
            node_secrets.extend(secrets.secrets(state, node))
        by_type: dict[TypeUrl, list[Message]] = {
            CLUSTER: clusters,
            ENDPOINT: assignments,
            SECRET: node_secrets,
            LISTENER: listeners,
            ROUTE: route_configs,
        }
        return MappingProxyType(
            {
                type_url: MappingProxyType(_by_name(type_url, by_type[type_url]))
                for type_url in ADS_ORDER
            }
        )


def _shape(node: Node) -> Node:
    """The node without what no translator reads (its ids), so instances share a view."""
    return replace(node, id="", service_id=None)


def resource_name(type_url: TypeUrl, message: Message) -> str:
    if type_url == ENDPOINT:
        assert isinstance(message, endpoint_pb2.ClusterLoadAssignment)
        return str(message.cluster_name)
    return str(getattr(message, "name"))  # noqa: B009 - every other type has `name`


def _by_name(type_url: TypeUrl, messages: Iterable[Message]) -> dict[str, Message]:
    named = sorted(((resource_name(type_url, m), m) for m in messages), key=lambda p: p[0])
    result: dict[str, Message] = {}
    for name, message in named:
        if name in result and result[name] != message:
            raise ValueError(f"two different {type_url} resources named {name!r}")
        result[name] = message
    return result


def translate_node(state: MeshState, node: Node) -> NodeResources:
    """The resources one node receives (a one-off `Translation`)."""
    return Translation(state).node(node)


def check_consistency(resources: NodeResources, index: ReferenceIndex | None = None) -> None:
    """Refuse a node view with dangling references (see `lucid.translators.consistency`)."""
    dangling = dangling_references(resources.resources, index)
    if dangling:
        raise InconsistentResources(resources.node.id, dangling)
