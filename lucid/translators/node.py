"""`Node`: who is asking for configuration, and the names every translator agrees on.

A proxy tells the control plane who it is in its xDS `Node` (`lucid bootstrap` writes it):
`node.id` is the instance, `node.cluster` the service name, and `node.metadata` carries
the sidecar contract of DESIGN.md: serviceId, plane, cluster, appPort, inboundPort,
outboundPort, edgePort (gateways) and `proxyless` (gRPC clients). Translators read only
this frozen value, never the protobuf, so `lucid render` and the xDS server describe a
node the same way and the same node always gets the same bytes.

Resource names live here because several translators must agree on them: a listener
names its route configuration, a cluster names its secrets, and the pre-publish
consistency check follows those references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lucid.translators.endpoints import CLUSTER_PREFIX, cluster_name

__all__ = [
    "CLUSTER_PREFIX",
    "DEFAULT_OUTBOUND_PORT",
    "EDGE_LISTENER",
    "EDGE_ROUTES",
    "HEALTH_CHECKER_ID",
    "IDENTITY_SECRET",
    "INBOUND_LISTENER",
    "INBOUND_ROUTES",
    "OUTBOUND_LISTENER",
    "OUTBOUND_ROUTES",
    "SOURCE_HEADER",
    "SOURCE_PLANE_HEADER",
    "TRUST_SECRET",
    "Node",
    "cluster_name",
    "local_app_cluster_name",
]

DEFAULT_OUTBOUND_PORT: Final = 15001

INBOUND_LISTENER: Final = "lucid-inbound"
OUTBOUND_LISTENER: Final = "lucid-outbound"
EDGE_LISTENER: Final = "lucid-edge"

# Route configurations and SDS secrets carry the same names on every node, and each node
# receives its own content (its service's routes, its certificate), so a listener or a
# cluster that names them is shared by every service it suits, not built per service.
OUTBOUND_ROUTES: Final = "routes-out"
INBOUND_ROUTES: Final = "routes-in"
EDGE_ROUTES: Final = "routes-edge"

# SDS secrets likewise: each node receives its own content
# (its service's certificate), so a cluster that names them is still shared by all.
IDENTITY_SECRET: Final = "lucid-identity"
TRUST_SECRET: Final = "lucid-trust"

# Set by the calling sidecar on every outbound request (overwriting what the app sent),
# read by the destination's RBAC when no mTLS identity is available.
SOURCE_HEADER: Final = "x-lucid-source"
# The caller's plane beside it, so plane isolation without mTLS is one match per plane.
SOURCE_PLANE_HEADER: Final = "x-lucid-source-plane"

# The control plane's health checker: the URI SAN of the client certificate the mesh CA
# issues it (`lucid.ca`), with which the registry probes mTLS destinations; they allow it,
# as any health checker, their exact health-check requests only (`health_access.py`).
# No `plane/` in the path, so plane prefixes never match it.
HEALTH_CHECKER_ID: Final = "spiffe://lucid.mesh/control-plane/health-checker"


def local_app_cluster_name(app_port: int) -> str:
    """`inbound|<appPort>`: the local app behind a sidecar's inbound listener."""
    return f"inbound|{app_port}"


@dataclass(frozen=True, slots=True)
class Node:
    """One proxy, as its bootstrap describes it.

    `app_port` None means the proxy has no local app (no inbound listener); `edge_port` is
    set for gateway nodes only. Ports are what the proxy binds, so two instances of one
    service with the same ports receive byte-identical listeners.
    """

    id: str
    service: str
    service_id: str | None = None
    plane: str | None = None
    cluster: str | None = None
    app_port: int | None = None
    inbound_port: int | None = None
    outbound_port: int = DEFAULT_OUTBOUND_PORT
    edge_port: int | None = None
    proxyless: bool = False

    @property
    def is_gateway(self) -> bool:
        return self.edge_port is not None
