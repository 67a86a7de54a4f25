"""RDS, source side: the outbound route configuration of a service, and a gateway's edge one.

`routes-out` is what a sidecar's outbound listener (127.0.0.1:outboundPort) routes
by. Apps name a destination in `Host`/`:authority`, so there is one virtual host per
reachable destination D, with domains `D`, `D:*`, `D.lucid.onion`, `D.lucid.onion:*`
(Envoy's prefix wildcards take any port). Its routes are D's entries as this source sees
them (`virtual_hosts.py`): traffic rules, retries, timeouts, mirrors, then `outbound|D`.
Each is built once per (D, source signature) and shared by every source with the same one.

A last virtual host, `*`, takes requests that name no destination (e.g. `Host: localhost`).
It holds the source sidecar's own `routing`: its `routes` in their order (routes have no
priority; the first match wins), routes sharing one match forming a weighted split, then
`defaultRoute` for everything else. A route to one destination D carries D's entries,
each intersected with the route's match, so D's canary split or retry policy still
applies; the route's own `retry`/`timeout` replace the routing defaults there. A split
route goes straight to its members (their rules do not apply), with the first member's
retry/timeout, rewrite and hashing. A service without a sidecar configuration gets no `*`
host (Envoy answers 404). A route to a service that is not registered answers 503.

The edge route configuration of a gateway (`routes-edge`) is the same routing
table under a single `*` virtual host: at the edge every Host is external. It also
carries what the edge listener's RBAC filters enforce (`inbound.access_per_route`).

Every outbound request carries `x-lucid-source: <service>`, set on the whole route
configuration and overwriting what the app sent; the destination's RBAC reads it when no
mTLS identity is available.

Destinations (`destinations`, which also scopes the node's clusters): when the service's
registrations list `metadata.dependencies`, those, plus every service its own routes,
defaultRoute and applicable traffic rules name (split and mirror targets, and a redirect
target's host when it is a service), closed under the rules of what they add; otherwise
every registered service. Only registered services are destinations.
"""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import base_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2

from lucid.models.rules import (
    TrafficMirrorRule,
    TrafficRedirectRule,
    TrafficRule,
    TrafficWeightedSplitRule,
)
from lucid.models.sidecar import Route, SidecarConfiguration
from lucid.translators.inbound import access_per_route
from lucid.translators.mtls import MESH_DOMAIN
from lucid.translators.node import (
    EDGE_ROUTES,
    OUTBOUND_ROUTES,
    SOURCE_HEADER,
    SOURCE_PLANE_HEADER,
    Node,
)
from lucid.translators.ratelimit import edge_limited
from lucid.translators.route_actions import Entry, Forward, Timeouts, Unavailable, split_url
from lucid.translators.route_match import EVERYTHING, match_of, merge
from lucid.translators.sources import Source, facts_of, index_of, source
from lucid.translators.state import MeshState
from lucid.translators.virtual_hosts import destination_entries, render_entries, virtual_host

CATCH_ALL = "*"


def _dependencies(state: MeshState, service: str) -> set[str] | None:
    found = state.services.get(service)
    names: set[str] = set()
    for instance in found.instances if found is not None else ():
        metadata = instance.registration.metadata
        names.update(metadata.dependencies or () if metadata is not None else ())
    return names or None


def _service_of_host(state: MeshState, target: str) -> str | None:
    host = split_url(target).host or ""
    name = host[: -len(MESH_DOMAIN)] if host.endswith(MESH_DOMAIN) else host
    return name if name in state.services else None


def _targets(state: MeshState, rule: TrafficRule) -> list[str]:
    if isinstance(rule, TrafficWeightedSplitRule):
        return [d.destination for d in rule.parameters.destinations]
    if isinstance(rule, TrafficMirrorRule):
        return [rule.parameters.destination]
    if isinstance(rule, TrafficRedirectRule):
        name = _service_of_host(state, rule.parameters.target)
        return [name] if name is not None else []
    return []


def _routed(sidecar: SidecarConfiguration | None) -> list[str]:
    if sidecar is None:
        return []
    routing = sidecar.routing
    return [routing.defaultRoute, *(r.destination for r in routing.routes or ())]


def destinations(state: MeshState, service: str) -> tuple[str, ...]:
    """The services a node of `service` can reach (its clusters), sorted."""
    cache = index_of(state).destinations
    found = cache.get(service)
    if found is not None:
        return found
    wanted = _dependencies(state, service)
    if wanted is None:
        found = tuple(sorted(state.services))
    else:
        src = source(state, service)
        scope = {n for n in (*wanted, *_routed(src.sidecar)) if n in state.services}
        frontier = sorted(scope)
        while frontier:
            for _, _, rule in src.rules(frontier.pop()):
                for name in _targets(state, rule):
                    if name in state.services and name not in scope:
                        scope.add(name)
                        frontier.append(name)
        found = tuple(sorted(scope))
    cache[service] = found
    return found


def needs_stateful_session(state: MeshState, service: str) -> bool:
    """Whether some route of the service's outbound or edge routes enables sticky sessions,
    so its HTTP connection managers need the stateful-session filter."""
    return any(facts_of(state, d).sticky_cookie is not None for d in destinations(state, service))


def _split(state: MeshState, src: Source, members: list[Route]) -> Forward | Unavailable:
    routing = src.sidecar.routing if src.sidecar is not None else None
    first = members[0]
    targets = tuple(
        (r.destination, r.weight or 0)
        for r in members
        if (r.weight or 0) > 0 and r.destination in state.services
    )
    if not targets:
        return Unavailable(service=first.destination)
    timeouts = Timeouts().over(routing.timeout if routing is not None else None)
    if first.timeout is not None:
        timeouts = Timeouts(first.timeout, timeouts.response_ms, timeouts.idle_ms)
    retry = first.retry if first.retry is not None else (routing.retry if routing else None)
    return Forward(first.destination, targets, retry=retry, timeouts=timeouts)


def _route_entries(state: MeshState, src: Source, routes: Sequence[Route]) -> list[Entry]:
    """Entries of a sidecar's `routing.routes`, in order."""
    groups: dict[str, list[Route]] = {}
    for route in routes:
        groups.setdefault(route.match.model_dump_json(exclude_none=True), []).append(route)
    entries: list[Entry] = []
    for members in groups.values():
        first = members[0]
        wanted = first.match
        own = match_of(wanted.path, wanted.method, wanted.headers, wanted.query)
        if own is None:
            continue
        if len(members) > 1:
            entries.append(Entry(own, _split(state, src, members)))
        elif first.destination not in state.services:
            entries.append(Entry(own, Unavailable(service=first.destination)))
        else:
            for entry in destination_entries(
                state, src, first.destination, first.retry, first.timeout
            ):
                merged = merge(own, entry.match)
                if merged is not None:
                    entries.append(Entry(merged, entry.action))
    return entries


def routing_table(state: MeshState, src: Source) -> list[rc.Route] | None:
    """The source sidecar's routing table: its routes, then defaultRoute (None without a
    sidecar). The default part is the default destination's own routes, already rendered."""
    if src.sidecar is None:
        return None
    routing = src.sidecar.routing
    table = render_entries(state, _route_entries(state, src, routing.routes or ()))
    default = routing.defaultRoute
    if default in state.services:
        table.extend(virtual_host(state, src, default, proxyless=False).routes)
    else:
        table.extend(render_entries(state, [Entry(EVERYTHING, Unavailable(service=default))]))
    return table


def _source_headers(state: MeshState, service: str, config: route_pb2.RouteConfiguration) -> None:
    """Who is calling: the service name and its plane (that of its primary instance)."""
    found = state.service(service)
    values = [(SOURCE_HEADER, service)]
    if found is not None:
        values.append((SOURCE_PLANE_HEADER, found.primary.plane))
    for key, value in values:
        option = config.request_headers_to_add.add(append_action=_OVERWRITE)
        option.header.key = key
        option.header.value = value


_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_EVERYTHING_ELSE = rc.RouteMatch(prefix="/")
_NOT_FOUND = rc.Route(
    name="not-found",
    match=_EVERYTHING_ELSE,
    direct_response=rc.DirectResponseAction(status=404),
)


def route_configurations(state: MeshState, node: Node) -> Sequence[route_pb2.RouteConfiguration]:
    """`routes-out`, and for a gateway `routes-edge`."""
    src = source(state, node.service)
    outbound = route_pb2.RouteConfiguration(
        name=OUTBOUND_ROUTES,
        virtual_hosts=[
            virtual_host(state, src, d, proxyless=False) for d in destinations(state, node.service)
        ],
    )
    table = routing_table(state, src)
    if table is not None:
        outbound.virtual_hosts.add(name=CATCH_ALL, domains=[CATCH_ALL]).routes.MergeFrom(table)
    _source_headers(state, node.service, outbound)
    result = [outbound]
    if node.is_gateway:
        edge = route_pb2.RouteConfiguration(name=EDGE_ROUTES)
        edge_routes = edge_limited(state, node.service, table or [])
        host = edge.virtual_hosts.add(name="edge", domains=[CATCH_ALL])
        host.routes.MergeFrom(edge_routes)
        if not host.routes or host.routes[-1].match != _EVERYTHING_ELSE:
            # With no route, the RBAC filters would get no per-route configuration and
            # deny (403) what is simply not found.
            host.routes.append(_NOT_FOUND)
        for name, config in access_per_route(state, node, edge=True).items():
            host.typed_per_filter_config[name].CopyFrom(config)
        _source_headers(state, node.service, edge)
        result.append(edge)
    return result
