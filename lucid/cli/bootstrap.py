"""`lucid bootstrap`: the bootstrap that connects one sidecar (or gRPC client) to Lucid Mesh.

It fills a template from `envoy/` (data, not code: `sidecar-bootstrap.yaml`, or
`proxyless-grpc-bootstrap.json` with `--proxyless`) with the node of the sidecar contract
(DESIGN.md): id = the instance, cluster = the service, metadata with serviceId, plane,
cluster and ports. Unless `--offline`, it asks the REST API for the registration
(`GET /v1/services?serviceName=...`) to fill what the flags leave out: serviceId, plane,
cluster, the inbound port (the registered port) and the app port (registered port + 1,
as `lucid render` assumes), and where the xDS server listens. Flags always win.
Template values that are exactly "${name}" are replaced with typed values; nothing is
pasted into YAML text, so no value can inject configuration.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from lucid.cli.client import ApiClient, ApiError, Unreachable
from lucid.errors import ErrorCode, LucidError
from lucid.render import node_document
from lucid.translators.node import DEFAULT_OUTBOUND_PORT, Node
from lucid.xds.server.options import DEFAULT_XDS_HOST, DEFAULT_XDS_PORT

TEMPLATES_ENV = "LUCID_ENVOY_TEMPLATES"
SIDECAR_TEMPLATE = "sidecar-bootstrap.yaml"
PROXYLESS_TEMPLATE = "proxyless-grpc-bootstrap.json"
DEFAULT_ADMIN_PORT = 9901


class BootstrapError(LucidError, ValueError):
    """A bad --xds-address, or a template that cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.SIDECAR_CONFIGURATION_FAILED, message)


def templates_dir() -> Path:
    configured = os.environ.get(TEMPLATES_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "envoy"


def fill(template: Any, values: dict[str, Any]) -> Any:
    """The template with every value that is exactly "${name}" replaced by values[name]."""
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    if isinstance(template, str) and template.startswith("${") and template.endswith("}"):
        return values[template[2:-1]]
    return template


def _load(name: str) -> Any:
    path = templates_dir() / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BootstrapError(f"cannot read the bootstrap template {path}: {exc}") from exc
    if name.endswith(".json"):
        return json.loads(text)
    return yaml.safe_load(text)


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise BootstrapError(f"--xds-address takes HOST:PORT, not {address!r}")
    return host.strip("[]"), int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def sidecar_bootstrap(
    node: Node, *, xds_host: str, xds_port: int, delta: bool, admin_port: int
) -> Any:
    return fill(
        _load(SIDECAR_TEMPLATE),
        {
            "node_id": node.id,
            "service": node.service,
            "metadata": node_document(node)["metadata"],
            "admin_port": admin_port,
            "api_type": "DELTA_GRPC" if delta else "GRPC",
            "xds_cluster_type": "STATIC" if _is_ip(xds_host) else "STRICT_DNS",
            "xds_host": xds_host,
            "xds_port": xds_port,
        },
    )


def proxyless_bootstrap(node: Node, *, xds_host: str, xds_port: int) -> Any:
    host = f"[{xds_host}]" if ":" in xds_host else xds_host
    return fill(
        _load(PROXYLESS_TEMPLATE),
        {
            "xds_address": f"{host}:{xds_port}",
            "node_id": node.id,
            "service": node.service,
            "metadata": node_document(node)["metadata"],
        },
    )


def lookup(server: str, service: str, instance: str) -> dict[str, Any] | None:
    """The registration of `instance` (instanceId or serviceId) of `service`, if the API
    knows it; None if it does not or cannot be reached (said on stderr)."""
    try:
        with ApiClient(server) as api:
            found = api.get("/v1/services", params={"serviceName": service})
    except Unreachable as exc:
        print(f"note: {exc}; using the flags only", file=sys.stderr)
        return None
    specs = [item.get("spec", item) for item in found.get("items", [])]
    for spec in specs:
        if instance in (spec.get("instanceId"), spec.get("serviceId")):
            return dict(spec)
    print(f"note: no registration of {service} has instance {instance!r}", file=sys.stderr)
    return None


def node_of(args: argparse.Namespace, registered: dict[str, Any] | None) -> Node:
    spec = registered or {}
    port = (spec.get("endpoint") or {}).get("port")
    inbound = args.inbound_port or (port if not args.proxyless else None)
    app = args.app_port or (inbound + 1 if inbound and inbound < 65535 else None)
    if args.proxyless:
        inbound = app = None
    return Node(
        id=args.instance,
        service=args.service,
        service_id=args.service_id or spec.get("serviceId"),
        plane=args.plane or spec.get("plane"),
        cluster=args.cluster or spec.get("cluster"),
        app_port=app,
        inbound_port=inbound if app else None,
        outbound_port=args.outbound_port,
        edge_port=args.edge_port,
        proxyless=args.proxyless,
    )


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1-65535)")
    return value


def add_bootstrap_command(commands: Any, remote: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "bootstrap",
        parents=[remote],
        help="print the Envoy (or gRPC xDS) bootstrap of one sidecar",
        description="Print a bootstrap that connects a sidecar to this control plane. "
        "The registration is looked up through the REST API unless --offline.",
    )
    p.add_argument("--service", required=True, help="the service name (node.cluster)")
    p.add_argument("--instance", required=True, help="the instance id (node.id)")
    p.add_argument("--service-id", help="serviceId (default: from the registration)")
    p.add_argument("--plane", help="plane (default: from the registration)")
    p.add_argument("--cluster", help="cluster (default: from the registration)")
    p.add_argument("--inbound-port", type=_port, help="default: the registered port")
    p.add_argument("--app-port", type=_port, help="default: the inbound port + 1")
    p.add_argument("--outbound-port", type=_port, default=DEFAULT_OUTBOUND_PORT)
    p.add_argument("--edge-port", type=_port, help="gateways only: the edge listener port")
    p.add_argument("--admin-port", type=int, default=DEFAULT_ADMIN_PORT, help="0: any")
    p.add_argument("--delta", action="store_true", help="incremental xDS (DELTA_GRPC)")
    p.add_argument("--proxyless", action="store_true", help="a gRPC xDS bootstrap (JSON)")
    p.add_argument(
        "--xds-address",
        default=os.environ.get("LUCID_XDS_ADDRESS"),
        help="HOST:PORT of the xDS server (env LUCID_XDS_ADDRESS; default: where the server "
        f"at --server says it listens, else {DEFAULT_XDS_HOST}:{DEFAULT_XDS_PORT})",
    )
    p.add_argument("--offline", action="store_true", help="do not ask the REST API")
    p.add_argument(
        "-o", "--output", choices=["yaml", "json"], help="default: yaml (json if --proxyless)"
    )
    p.set_defaults(run=cmd_bootstrap)


def xds_address(server: str) -> str | None:
    """Where the xDS server of the Lucid Mesh at `server` listens, as its API says; a
    wildcard bind address is reached through the API's host."""
    try:
        with ApiClient(server) as api:
            address = api.get("/v1/proxies").get("xdsAddress")
    except (Unreachable, ApiError):
        return None
    if not isinstance(address, str):
        return None
    host, port = split_address(address)
    if host in ("0.0.0.0", "::", ""):
        host = urlsplit(server).hostname or DEFAULT_XDS_HOST
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def cmd_bootstrap(args: argparse.Namespace) -> int:
    address = args.xds_address or (None if args.offline else xds_address(args.server))
    host, port = split_address(address or f"{DEFAULT_XDS_HOST}:{DEFAULT_XDS_PORT}")
    registered = None if args.offline else lookup(args.server, args.service, args.instance)
    node = node_of(args, registered)
    if args.proxyless:
        document = proxyless_bootstrap(node, xds_host=host, xds_port=port)
    else:
        document = sidecar_bootstrap(
            node, xds_host=host, xds_port=port, delta=args.delta, admin_port=args.admin_port
        )
    if (args.output or ("json" if args.proxyless else "yaml")) == "json":
        print(json.dumps(document, indent=2))
    else:
        print(yaml.safe_dump(document, sort_keys=False), end="")
    return 0
