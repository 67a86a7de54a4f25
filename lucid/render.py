"""`lucid render`: what one node would receive, computed offline, in a form an operator reads.

Operators need to see what a policy change does before applying it, and CI needs to know
Envoy will accept it. This module takes validated models, builds the `MeshState` the
server would build (identities from an ephemeral mesh CA, every registration's health
`unknown`), finds the node by instanceId or serviceId, translates it with the same
`translate_node` the xDS server uses, and returns it as either:

- a static Envoy bootstrap that runs standalone and that `envoy --mode validate` checks:
  every resource under `static_resources`; EDS clusters become STATIC with their load
  assignment inline, RDS references become inline route configurations, and SDS
  references (served over ADS) become references to the static secrets; an admin on
  127.0.0.1:9901. A proxyless gRPC client is no Envoy (and Envoy builds carry no api
  listener extension), so it has no bootstrap: render it as a dump.
- a config-dump-like document: per resource type, each resource's name, version (short
  sha256 of its deterministic bytes, as the cache versions it) and JSON, with inline
  private keys redacted as Envoy's own config dump does.

The ephemeral CA makes certificates (and so secret versions) differ between runs; every
other version is stable. This module does no I/O; the CLI reads files and prints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from pydantic import BaseModel

from lucid.ca import CertificateAuthority
from lucid.errors import ErrorCode, LucidError
from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.translators.mesh import NodeResources, check_consistency, translate_node
from lucid.translators.node import DEFAULT_OUTBOUND_PORT, Node
from lucid.translators.state import Instance, MeshState, build_state
from lucid.xds.resources import ADS_ORDER, CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, SHORT_NAMES

ADMIN_ADDRESS, ADMIN_PORT = "127.0.0.1", 9901
DEFAULT_EDGE_PORT = 10000
GATEWAY_CLUSTER = "api-gateway"
VERSION_LENGTH = 16
REDACTED = "[redacted]"
_HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"


class RenderError(LucidError):
    """The node cannot be rendered: unknown, or its resources do not hold together."""


def mesh_state(models: Iterable[BaseModel], ca: CertificateAuthority | None = None) -> MeshState:
    """The state the server would build from these documents, with identities from `ca`
    (an ephemeral CA by default) for every service, in its primary instance's plane."""
    by_type: dict[type[BaseModel], list[Any]] = {}
    for model in models:
        by_type.setdefault(type(model), []).append(model)
    state = build_state(
        by_type.get(ServiceRegistration, []),
        by_type.get(SidecarConfiguration, []),
        by_type.get(TrafficPolicy, []),
        by_type.get(SecurityPolicy, []),
    )
    authority = ca or CertificateAuthority.ephemeral()
    planes = {name: service.primary.plane for name, service in state.services.items()}
    return state.with_identities(authority.identities(planes), authority.trust_bundle())


def find_node(
    state: MeshState,
    wanted: str,
    *,
    app_port: int | None = None,
    edge_port: int | None = None,
    outbound_port: int = DEFAULT_OUTBOUND_PORT,
    proxyless: bool = False,
) -> Node:
    """The node of the registration whose instanceId (or else serviceId) is `wanted`.

    Its sidecar binds the registered port (inbound) and reaches the app on `app_port`
    (default: the registered port + 1); gateways (cluster api-gateway) get an edge
    listener on `edge_port` (default 10000). A proxyless client binds nothing.
    """
    instances = [i for s in state.services.values() for i in s.instances]
    found = [i for i in instances if i.instance_id == wanted] or [
        i for i in instances if i.service_id == wanted
    ]
    if not found:
        known = sorted(i.instance_id or i.service_id for i in instances)
        raise RenderError(
            ErrorCode.SERVICE_NOT_FOUND,
            f"no registration has instanceId or serviceId {wanted!r}"
            + (f"; known: {', '.join(known[:10])}" if known else "; no registrations given"),
            details={"field": "--node", "value": wanted, "known": known},
        )
    instance = min(found, key=lambda i: i.service_id)
    node_id = instance.instance_id or instance.service_id
    if proxyless:
        return Node(
            id=node_id,
            service=instance.registration.serviceName,
            service_id=instance.service_id,
            plane=instance.plane,
            cluster=instance.cluster,
            outbound_port=outbound_port,
            proxyless=True,
        )
    if app_port is None and instance.port >= 65535:
        raise RenderError(
            ErrorCode.INVALID_SERVICE_CONFIGURATION,
            f"the registered port is {instance.port}, so the app cannot sit on port + 1; "
            "give --app-port",
            details={"field": "--app-port", "value": None},
        )
    return sidecar_node(
        instance, app_port=app_port, edge_port=edge_port, outbound_port=outbound_port
    )


def sidecar_node(
    instance: Instance,
    *,
    app_port: int | None = None,
    edge_port: int | None = None,
    outbound_port: int = DEFAULT_OUTBOUND_PORT,
) -> Node:
    """The sidecar node of a registered instance, with `find_node`'s port defaults."""
    if edge_port is None and instance.cluster == GATEWAY_CLUSTER:
        edge_port = DEFAULT_EDGE_PORT
    return Node(
        id=instance.instance_id or instance.service_id,
        service=instance.registration.serviceName,
        service_id=instance.service_id,
        plane=instance.plane,
        cluster=instance.cluster,
        app_port=app_port if app_port is not None else instance.port + 1,
        inbound_port=instance.port,
        outbound_port=outbound_port,
        edge_port=edge_port,
    )


def sidecar_nodes(state: MeshState) -> list[Node]:
    """One sidecar node per registered instance, with the default ports."""
    return [sidecar_node(i) for service in state.services.values() for i in service.instances]


def render_node(state: MeshState, node: Node) -> NodeResources:
    """The node's resources, refused (RenderError) if they reference something missing."""
    resources = translate_node(state, node)
    try:
        check_consistency(resources)
    except ValueError as exc:
        raise RenderError(ErrorCode.SIDECAR_CONFIGURATION_FAILED, str(exc)) from exc
    return resources


def node_document(node: Node) -> dict[str, Any]:
    """The bootstrap `node` of the sidecar contract (DESIGN.md)."""
    metadata: dict[str, Any] = {"outboundPort": node.outbound_port}
    for key, value in (
        ("serviceId", node.service_id),
        ("plane", node.plane),
        ("cluster", node.cluster),
        ("appPort", node.app_port),
        ("inboundPort", node.inbound_port),
        ("edgePort", node.edge_port),
    ):
        if value is not None:
            metadata[key] = value
    if node.proxyless:
        metadata["proxyless"] = True
    return {"id": node.id, "cluster": node.service, "metadata": dict(sorted(metadata.items()))}


def resource_version(message: Message) -> str:
    """Short sha256 of the deterministic serialization: equal bytes, equal version."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()[
        :VERSION_LENGTH
    ]


def _json(message: Message) -> dict[str, Any]:
    return dict(json_format.MessageToDict(message, preserving_proto_field_name=True))


def config_dump(resources: NodeResources) -> dict[str, Any]:
    """Per type, in the ADS order: each resource's name, version and JSON."""
    return {
        "node": node_document(resources.node),
        "resources": [
            {
                "type": SHORT_NAMES[type_url],
                "type_url": type_url,
                "resources": [
                    {
                        "name": name,
                        "version": resource_version(message),
                        "resource": _redacted(_json(message)),
                    }
                    for name, message in resources.resources.get(type_url, {}).items()
                ],
            }
            for type_url in ADS_ORDER
        ],
    }


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                {"inline_string": REDACTED}
                if key == "private_key" and isinstance(item, dict) and "filename" not in item
                else _redacted(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def check_bootstrap(node: Node) -> None:
    """Refuse a bootstrap for a proxyless gRPC client: it is no Envoy."""
    if node.proxyless:
        raise RenderError(
            ErrorCode.SIDECAR_CONFIGURATION_FAILED,
            f"node {node.id!r} is a proxyless gRPC client, not an Envoy: "
            "it has no static bootstrap; render it with --format dump",
            details={"field": "--format", "value": "bootstrap"},
        )


def bootstrap(resources: NodeResources) -> dict[str, Any]:
    """A static bootstrap holding every resource of the node; see the module docstring."""
    check_bootstrap(resources.node)
    by_type = {t: resources.resources.get(t, {}) for t in (CLUSTER, ENDPOINT, SECRET, LISTENER)}
    routes = {name: _json(m) for name, m in resources.resources.get(ROUTE, {}).items()}
    assignments = {name: _json(m) for name, m in by_type[ENDPOINT].items()}
    clusters = [_static_cluster(_json(m), assignments) for m in by_type[CLUSTER].values()]
    listeners = [_inline(_json(m), routes) for m in by_type[LISTENER].values()]
    document: dict[str, Any] = {
        "node": node_document(resources.node),
        "admin": {
            "address": {"socket_address": {"address": ADMIN_ADDRESS, "port_value": ADMIN_PORT}}
        },
        "static_resources": {
            "secrets": [_json(m) for m in by_type[SECRET].values()],
            "clusters": [_inline(c, routes) for c in clusters],
            "listeners": listeners,
        },
    }
    return dict(_static_sds(document))


def _static_cluster(cluster: dict[str, Any], assignments: Mapping[str, Any]) -> dict[str, Any]:
    if cluster.get("type") != "EDS":
        return cluster
    eds = cluster.pop("eds_cluster_config", {})
    name = eds.get("service_name") or cluster["name"]
    if name not in assignments:
        raise RenderError(
            ErrorCode.SIDECAR_CONFIGURATION_FAILED,
            f"cluster {cluster['name']!r} waits for load assignment {name!r}, "
            "which the node does not receive",
        )
    cluster["type"] = "STATIC"
    cluster["load_assignment"] = assignments[name]
    return cluster


def _inline(value: Any, routes: Mapping[str, Any]) -> Any:
    """RDS references in HTTP connection managers become the route configurations."""
    if isinstance(value, list):
        return [_inline(item, routes) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: _inline(item, routes) for key, item in value.items()}
    if str(result.get("@type", "")).endswith(_HCM) and "rds" in result:
        name = result.pop("rds").get("route_config_name", "")
        if name not in routes:
            raise RenderError(
                ErrorCode.SIDECAR_CONFIGURATION_FAILED,
                f"a listener names route configuration {name!r}, which the node does not receive",
            )
        result["route_config"] = routes[name]
    return result


def _static_sds(value: Any) -> Any:
    """SDS references lose their ADS config source, so they name the static secrets."""
    if isinstance(value, list):
        return [_static_sds(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        if key.endswith("sds_secret_config"):
            item = {k: v for k, v in item.items() if k != "sds_config"}
        elif key.endswith("sds_secret_configs"):
            item = [{k: v for k, v in i.items() if k != "sds_config"} for i in item]
        result[key] = _static_sds(item)
    return result
