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
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from google.protobuf.message import Message

from lucid.translators import inbound, outbound, routes, secrets
from lucid.translators.clusters import cluster
from lucid.translators.consistency import InconsistentResources, ReferenceIndex, dangling_references
from lucid.translators.endpoints import algorithm_of, cluster_name, load_assignment, uses_eds
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
    """Translators applied to one state; per-destination and per-service parts memoised."""

    def __init__(self, state: MeshState) -> None:
        self.state = state
        self._clusters: dict[str, cluster_pb2.Cluster] = {}
        self._assignments: dict[str, endpoint_pb2.ClusterLoadAssignment] = {}
        self._routes: dict[tuple[str, bool], tuple[Message, ...]] = {}
        self._nodes: dict[Node, NodeResources] = {}
        self._references = ReferenceIndex()

    def cluster(self, service: str) -> cluster_pb2.Cluster:
        found = self._clusters.get(service)
        if found is None:
            found = self._clusters[service] = cluster(self.state, self.state.services[service])
        return found

    def load_assignment(self, service: str) -> endpoint_pb2.ClusterLoadAssignment | None:
        """The EDS resource of a destination, or None when its cluster carries it inline."""
        target = self.state.services[service]
        if not uses_eds(target):
            return None
        found = self._assignments.get(service)
        if found is None:
            weighted = algorithm_of(self.state, service) == "weighted"
            found = self._assignments[service] = load_assignment(target, weighted=weighted)
        return found

    def route_configurations(self, node: Node) -> tuple[Message, ...]:
        key = (node.service, node.is_gateway)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = tuple(routes.route_configurations(self.state, node))
        return found

    @cached_property
    def shared_cluster_names(self) -> frozenset[str]:
        return frozenset(cluster_name(name) for name in self.state.services)

    def node(self, node: Node) -> NodeResources:
        found = self._nodes.get(node)
        if found is None:
            found = self._nodes[node] = self._translate(node)
        return found

    def check(self, resources: NodeResources) -> None:
        """Raise `InconsistentResources` when the node's view names something it lacks."""
        check_consistency(resources, self._references)

    def _translate(self, node: Node) -> NodeResources:
        state = self.state
        reachable = [d for d in routes.destinations(state, node.service) if d in state.services]
        clusters: list[Message] = [self.cluster(d) for d in reachable]
        assignments: list[Message] = [
            a for a in (self.load_assignment(d) for d in reachable) if a is not None
        ]
        listeners: list[Message] = []
        route_configs: list[Message] = []
        node_secrets: list[Message] = []
        if node.proxyless:
            listeners.extend(outbound.proxyless_listeners(state, node))
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
        return NodeResources(
            node=node,
            resources=MappingProxyType(
                {
                    type_url: MappingProxyType(_by_name(type_url, by_type[type_url]))
                    for type_url in ADS_ORDER
                }
            ),
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
