"""One translation of a `MeshState`: the resources each node receives, built once and shared.

The expensive part of a mesh is N sidecars times M destinations (DESIGN.md, performance),
so nothing here is built per node that does not depend on the node: a destination's
cluster and load assignment are built once per state; a service's route configurations
once per service (and gateway edge port) and shared by its instances; a node's view once
per node shape (a `Node` without its ids). Below that, translators build a part once per
distinct input, whoever asks: listeners, filters, inbound route tables and local clusters
are keyed by what they are made of (route configurations and secrets carry the same names
on every node, so a listener naming them is not tied to a service). `Translation` memoises
the per-service parts; `NodeResources` is what one node receives, by type URL and name, in
the ADS order.

Before anything is published `check_consistency` follows every reference — an EDS cluster
names its load assignment, a listener its route configuration, a TLS context its secrets,
a route its clusters — and refuses a node view that names something missing (as
go-control-plane's `Snapshot.Consistent()` does): Envoy would otherwise warm forever or
route to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from google.protobuf.message import Message

from lucid.translators import inbound, outbound, routes, secrets
from lucid.translators.changes import Changes, changes
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

    With `previous` (the translation of the state before), every memoised part that no
    change can affect (`lucid.translators.changes`) is carried over as the very same
    object, so a publisher sees by identity which resources and nodes are unchanged, and
    `affected_services` says which nodes to look at at all. Only the memo is carried,
    never the previous translation itself, so memory holds one state's worth.
    """

    _references: ReferenceIndex

    def __init__(self, state: MeshState, previous: Translation | None = None) -> None:
        self.state = state
        self._clusters: dict[str, cluster_pb2.Cluster] = {}
        self._assignments: dict[str, endpoint_pb2.ClusterLoadAssignment | None] = {}
        self._routes: dict[tuple[str, bool, int | None], tuple[Message, ...]] = {}
        self._nodes: dict[Node, NodeResources] = {}
        self._shaped: dict[Node, Resources] = {}
        self._destinations: dict[str, tuple[str, ...]] = {}
        # Views already found consistent, by identity (kept alive by the value).
        self._checked: dict[int, Resources] = {}
        self._references = ReferenceIndex(previous._references if previous is not None else None)
        if previous is not None:
            previous._references.forget_parent()
        self._affected: frozenset[str] | None = None
        if previous is not None:
            self._carry(previous, changes(previous.state, state))

    def _carry(self, previous: Translation, c: Changes) -> None:
        """Take over what `c` leaves untouched; decide which services are affected."""
        # A cluster and a load assignment read only their own service and its sidecar.
        own = c.services | c.sidecars
        self._clusters = {k: v for k, v in previous._clusters.items() if k not in own}
        self._assignments = {k: v for k, v in previous._assignments.items() if k not in own}
        if c.topology or c.trust:
            return
        # What a service reaches reads its registrations, its sidecar and the traffic
        # policies it is the source of.
        moved = c.registrations | c.sidecars | c.sources
        self._destinations = {k: v for k, v in previous._destinations.items() if k not in moved}
        # Its routes also read each destination's registrations and sidecar; its node
        # views also the destination's clusters and assignments (own), its own security
        # and identity.
        route_inputs = c.registrations | c.sidecars
        routes_dirty = set(moved)
        views_dirty: set[str] = set()
        for service, reached in previous._destinations.items():
            if not own.isdisjoint(reached):
                views_dirty.add(service)
                if not route_inputs.isdisjoint(reached):
                    routes_dirty.add(service)
        # A gateway's edge routes also carry its own access rules (as a destination).
        self._routes = {
            k: v
            for k, v in previous._routes.items()
            if k[0] not in routes_dirty and not (k[1] and k[0] in c.destinations)
        }
        affected = frozenset(
            routes_dirty | views_dirty | c.services | c.destinations | c.identities
        )
        self._affected = affected
        self._nodes = {k: v for k, v in previous._nodes.items() if k.service not in affected}
        self._shaped = {k: v for k, v in previous._shaped.items() if k.service not in affected}
        kept = {id(view): view for view in self._shaped.values()}
        self._checked = {k: v for k, v in previous._checked.items() if kept.get(k) is v}

    def affected_services(self) -> frozenset[str] | None:
        """Services whose nodes may receive new resources since the previous translation;
        None when any node may (no previous translation, or a change of topology or trust).

        Nodes of other services keep their previous view (the same object), so a
        publisher need not look at them: with one policy changed in a 1,000-service mesh,
        a handful of services are affected.
        """
        return self._affected

    # Memoised parts ---------------------------------------------------------------------

    def destinations(self, service: str) -> tuple[str, ...]:
        """Registered services a node of `service` reaches (its outbound clusters)."""
        found = self._destinations.get(service)
        if found is None:
            state = self.state
            found = tuple(d for d in routes.destinations(state, service) if d in state.services)
            self._destinations[service] = found
        return found

    def cluster(self, service: str) -> cluster_pb2.Cluster:
        found = self._clusters.get(service)
        if found is None:
            found = self._clusters[service] = cluster(self.state, self.state.services[service])
        return found

    def load_assignment(self, service: str) -> endpoint_pb2.ClusterLoadAssignment | None:
        """The EDS resource of a destination, or None when its cluster carries it inline."""
        if service in self._assignments:
            return self._assignments[service]
        target = self.state.services[service]
        found: endpoint_pb2.ClusterLoadAssignment | None = None
        if uses_eds(target):
            weighted = algorithm_of(self.state, service) == "weighted"
            found = load_assignment(target, weighted=weighted)
        self._assignments[service] = found
        return found

    def shared_parts(self) -> Iterator[tuple[TypeUrl, str, Message]]:
        """Every registered service's cluster and load assignment, the parts of a node's
        view shared by every node that reaches the service, built now (memoised, their
        references indexed) so that the first sidecar of a service to connect waits only
        for what is its own: a sidecar reaching 1,000 services gets its clusters at once."""
        references = self._references.references
        for service in self.state.services:
            built = self.cluster(service)
            references(built)
            yield CLUSTER, built.name, built
            assignment = self.load_assignment(service)
            if assignment is not None:
                references(assignment)
                yield ENDPOINT, assignment.cluster_name, assignment

    def route_configurations(self, node: Node) -> tuple[Message, ...]:
        key = (node.service, node.is_gateway, node.edge_port)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = tuple(routes.route_configurations(self.state, node))
        return found

    def node(self, node: Node) -> NodeResources:
        found = self._nodes.get(node)
        if found is None:
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
        """Raise `InconsistentResources` when the node's view names something it lacks.

        A view shared by several nodes (or kept from the previous translation) is checked
        once."""
        view = resources.resources
        key = id(view)
        if self._checked.get(key) is view:
            return
        check_consistency(resources, self._references)
        self._checked[key] = view

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
    if not node.id and node.service_id is None:
        return node
    return Node(
        id="",
        service=node.service,
        plane=node.plane,
        cluster=node.cluster,
        app_port=node.app_port,
        inbound_port=node.inbound_port,
        outbound_port=node.outbound_port,
        edge_port=node.edge_port,
        proxyless=node.proxyless,
    )


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
