"""The Envoy v3 resource types Lucid Mesh serves, and the one order they are sent in.

Like go-control-plane's `cache/types`, the order lives in one place because it matters:
Envoy applies each type as it arrives, so a push that names something before it exists
makes Envoy wait (warming) or, worse, route to nothing. `ADS_ORDER` is make-before-break:

1. CDS: clusters first; a new cluster warms until its endpoints arrive.
2. EDS: the load assignments those clusters wait for.
3. SDS: secrets next. Envoy subscribes to a secret only once a cluster or listener names
   it, so a first push cannot carry it earlier; but on every later push a rotated or new
   secret must be in place before the listeners that use it (a listener whose secret is
   missing warms and serves nothing), and after the clusters, whose upstream TLS contexts
   may name it too. Hence after EDS and before LDS.
4. LDS: listeners, which name route configurations.
5. RDS: route configurations, last; routes name clusters, which already exist.

Removals go the other way round (RDS, LDS, SDS, EDS, CDS), so nothing in use disappears
first; `REMOVAL_ORDER` says so.

`TypeUrl`, `Version` and `NodeId` are `NewType`s so a node id is never passed where a
version is expected; they cost nothing at run time.
"""

from __future__ import annotations

from typing import Final, NewType

TypeUrl = NewType("TypeUrl", str)
Version = NewType("Version", str)
NodeId = NewType("NodeId", str)

_PREFIX: Final = "type.googleapis.com/"

CLUSTER: Final = TypeUrl(_PREFIX + "envoy.config.cluster.v3.Cluster")
ENDPOINT: Final = TypeUrl(_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment")
LISTENER: Final = TypeUrl(_PREFIX + "envoy.config.listener.v3.Listener")
ROUTE: Final = TypeUrl(_PREFIX + "envoy.config.route.v3.RouteConfiguration")
SECRET: Final = TypeUrl(_PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret")

ADS_ORDER: Final[tuple[TypeUrl, ...]] = (CLUSTER, ENDPOINT, SECRET, LISTENER, ROUTE)
REMOVAL_ORDER: Final[tuple[TypeUrl, ...]] = tuple(reversed(ADS_ORDER))

# Short names as operators and Envoy's stats know them (`lucid proxy-status`, CSDS).
SHORT_NAMES: Final[dict[TypeUrl, str]] = {
    CLUSTER: "CDS",
    ENDPOINT: "EDS",
    SECRET: "SDS",
    LISTENER: "LDS",
    ROUTE: "RDS",
}

# For SotW LDS and CDS a resource missing from a response means "deleted", and the first
# request's empty name list means "everything"; the other types are always named.
WILDCARD_TYPES: Final[frozenset[TypeUrl]] = frozenset({CLUSTER, LISTENER})

# The name that asks for every resource of a type, whatever the type.
WILDCARD: Final = "*"


_POSITIONS: Final[dict[str, int]] = {type_url: i for i, type_url in enumerate(ADS_ORDER)}


def order_of(type_url: TypeUrl) -> int:
    """Position of `type_url` in the ADS order; unknown types go last, in a stable order."""
    return _POSITIONS.get(type_url, len(ADS_ORDER))
