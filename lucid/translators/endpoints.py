"""EDS: one `ClusterLoadAssignment` per destination service, built from its registrations.

The registry decides who is alive (registration TTL, its own health checks) and Envoy
learns it here, so the mapping of a stored status is the whole point of this module:

| registration status | Envoy `health_status` | effect in Envoy                          |
|---------------------|-----------------------|------------------------------------------|
| healthy             | HEALTHY               | receives traffic                         |
| unhealthy           | UNHEALTHY             | receives none (unless panic mode)        |
| degraded            | DEGRADED              | used only when no healthy host is left   |
| unknown / none      | UNKNOWN               | treated as healthy until checked         |
| expired             | (left out)            | gone from the assignment                 |

Everything sits in one locality with `load_balancing_weight` set: gRPC proxyless clients
refuse an assignment whose localities carry no weight ("no localities"). Endpoint weights
are written only for the `weighted` algorithm, from registration `metadata.weight`.

Endpoints are sorted (host, port, serviceId) by `MeshState`, so the bytes, and with them the
resource version, only change when an endpoint does. Each service's assignment is built
once and shared by every sidecar that reaches it.
"""

from __future__ import annotations

from envoy.config.core.v3 import (
    health_check_pb2,
)
from envoy.config.endpoint.v3 import (
    endpoint_components_pb2,
    endpoint_pb2,
)

from lucid.translators.state import Instance, MeshState, Service

CLUSTER_PREFIX = "outbound|"


def cluster_name(service: str) -> str:
    """`outbound|<service>`: the cluster, and its EDS name, that reaches a service.

    One per destination service, the same in every sidecar, so it is built once. The
    `outbound|` prefix keeps room for the inbound clusters (`inbound|<port>`) a sidecar
    has for its own app; `|` cannot occur in a service name, so the name parses back.
    """
    return CLUSTER_PREFIX + service


HEALTH_STATUS = {
    "healthy": health_check_pb2.HEALTHY,
    "unhealthy": health_check_pb2.UNHEALTHY,
    "degraded": health_check_pb2.DEGRADED,
    "unknown": health_check_pb2.UNKNOWN,
}
LOCALITY_WEIGHT = 1


def algorithm_of(state: MeshState, service: str) -> str:
    """The destination's load-balancing algorithm (its sidecar's routing), or round-robin."""
    sidecar = state.sidecar_of_service(service)
    if sidecar is None or sidecar.routing.loadBalancing is None:
        return "round-robin"
    return sidecar.routing.loadBalancing.algorithm


def _lb_endpoint(
    endpoint: endpoint_components_pb2.LbEndpoint, instance: Instance, weighted: bool
) -> None:
    """Fill `endpoint` in place (building nested messages and copying them in costs three
    times as much, for every instance of the mesh)."""
    address = endpoint.endpoint.address.socket_address
    address.address = instance.host
    address.port_value = instance.port
    endpoint.health_status = HEALTH_STATUS[instance.status]
    if not instance.host_is_ip:
        endpoint.endpoint.hostname = instance.host
    if weighted:
        endpoint.load_balancing_weight.value = instance.weight


def load_assignment(
    service: Service, *, weighted: bool = False
) -> endpoint_pb2.ClusterLoadAssignment:
    """The load assignment of one service: its live instances in one weighted locality."""
    assignment = endpoint_pb2.ClusterLoadAssignment(cluster_name=cluster_name(service.name))
    locality = assignment.endpoints.add()
    locality.locality.SetInParent()
    locality.load_balancing_weight.value = LOCALITY_WEIGHT
    for instance in service.live_instances:
        _lb_endpoint(locality.lb_endpoints.add(), instance, weighted)
    return assignment


def uses_eds(service: Service) -> bool:
    """Whether the service's cluster is EDS: only when every host is an IP address.

    Envoy takes no hostnames in EDS or static endpoints; a service registered by DNS name
    gets a STRICT_DNS cluster that carries this same assignment inline instead.
    """
    return all(instance.host_is_ip for instance in service.instances)


def load_assignments(state: MeshState) -> tuple[endpoint_pb2.ClusterLoadAssignment, ...]:
    """Every EDS resource of the mesh, sorted by cluster name."""
    return tuple(
        load_assignment(service, weighted=algorithm_of(state, name) == "weighted")
        for name, service in sorted(state.services.items())
        if uses_eds(service)
    )
