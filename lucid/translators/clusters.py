"""CDS: one `Cluster` per destination service, named `outbound|<service>`.

A cluster depends only on the destination (its registrations and its own sidecar
configuration), never on who calls it, so each is built once and the same bytes go to
every sidecar: with 1,000 services this is 1,000 clusters, not 1,000 per proxy (DESIGN.md,
performance). What comes from where:

| Envoy field                     | from                                                      |
|---------------------------------|-----------------------------------------------------------|
| type, eds_cluster_config        | EDS over ADS when every host is an IP; else STRICT_DNS    |
|                                 | with the load assignment inline (EDS takes no hostnames)  |
| connect_timeout                 | destination sidecar routing.timeout.connect (default 5 s) |
| lb_policy                       | routing.loadBalancing.algorithm (`LB_POLICY`)             |
| HttpProtocolOptions             | endpoint protocol: grpc/grpcs → HTTP/2, http/https → 1.1; |
|                                 | idle_timeout ← routing.timeout.idle                       |
| transport_socket                | mesh mTLS on at the destination (`mtls.py`): certificates |
|                                 | from SDS, the destination's SPIFFE ids as URI SANs, SNI   |
|                                 | <service>.lucid.onion, ALPN h2 for grpc; otherwise        |
|                                 | https/grpcs: UpstreamTlsContext, SNI = endpoint host      |
|                                 | (or <service>.lucid.onion for an IP), ALPN h2 for grpcs,  |
|                                 | CA and client cert from endpoint.tls (PEM or file path)   |
| health_checks                   | the registration's healthCheck (`health_checks.py`)       |
| circuit_breakers, outlier_det.  | the winning circuit-break rule of the destination sidecar |

Settings that apply to a whole cluster come from the service's primary instance (the
lowest serviceId), so they never depend on the order registrations arrived in.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from envoy.config.cluster.v3 import (
    circuit_breaker_pb2,
    cluster_pb2,
    outlier_detection_pb2,
)
from envoy.config.core.v3 import (
    base_pb2,
    protocol_pb2,
)
from envoy.extensions.transport_sockets.tls.v3 import (
    common_pb2,
    tls_pb2,
)
from envoy.extensions.upstreams.http.v3 import (
    http_protocol_options_pb2,
)
from google.protobuf import any_pb2, duration_pb2

from lucid.models.parameters import CircuitBreakParameters
from lucid.models.rules import PolicyCircuitBreakRule
from lucid.models.sidecar import SidecarConfiguration
from lucid.translators.endpoints import algorithm_of, cluster_name, load_assignment, uses_eds
from lucid.translators.health_checks import health_check
from lucid.translators.messages import ads_config_source, pack
from lucid.translators.mtls import (
    MESH_DOMAIN,
    TLS_TRANSPORT_SOCKET,
    data_source,
    mtls_of,
    upstream_mtls_socket,
)
from lucid.translators.state import MeshState, Service

Cluster = cluster_pb2.Cluster

LB_POLICY = {
    "round-robin": Cluster.ROUND_ROBIN,
    "least-connections": Cluster.LEAST_REQUEST,
    "random": Cluster.RANDOM,
    # Weights travel on the endpoints (`load_balancing_weight`); weighted round robin.
    "weighted": Cluster.ROUND_ROBIN,
    # The hash key comes from the route's hash_policy (routes translator).
    "consistent-hash": Cluster.RING_HASH,
}
DEFAULT_CONNECT_TIMEOUT_MS = 5000
RETRY_BUDGET_PERCENT = 20.0
RETRY_BUDGET_MIN_CONCURRENCY = 3
HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def duration_ms(milliseconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(
        seconds=milliseconds // 1000, nanos=(milliseconds % 1000) * 1_000_000
    )


@functools.lru_cache(maxsize=64)
def _protocol_options(protocol: str, idle_ms: int | None) -> any_pb2.Any:
    options = http_protocol_options_pb2.HttpProtocolOptions()
    explicit = options.explicit_http_config
    if protocol in ("grpc", "grpcs"):
        explicit.http2_protocol_options.CopyFrom(protocol_pb2.Http2ProtocolOptions())
    else:
        explicit.http_protocol_options.CopyFrom(protocol_pb2.Http1ProtocolOptions())
    if idle_ms is not None:
        options.common_http_protocol_options.idle_timeout.CopyFrom(duration_ms(idle_ms))
    return pack(options)


def sni(service: Service) -> str:
    """The endpoint's host name; for an IP address (SNI takes none) the mesh name
    `<service>.lucid.onion`, which the sidecar contract routes by too."""
    primary = service.primary
    return f"{service.name}{MESH_DOMAIN}" if primary.host_is_ip else primary.host


def _transport_socket(service: Service) -> base_pb2.TransportSocket:
    endpoint = service.primary.registration.endpoint
    common = tls_pb2.CommonTlsContext()
    if endpoint.protocol == "grpcs":
        common.alpn_protocols.append("h2")
    tls = endpoint.tls
    if tls is not None and tls.certAuthority is not None:
        common.validation_context.trusted_ca.CopyFrom(data_source(tls.certAuthority))
    if tls is not None and tls.clientCert is not None and tls.clientKey is not None:
        common.tls_certificates.append(
            common_pb2.TlsCertificate(
                certificate_chain=data_source(tls.clientCert),
                private_key=data_source(tls.clientKey),
            )
        )
    context = tls_pb2.UpstreamTlsContext(common_tls_context=common, sni=sni(service))
    return base_pb2.TransportSocket(name=TLS_TRANSPORT_SOCKET, typed_config=pack(context))


def circuit_break_parameters(
    sidecar: SidecarConfiguration | None,
) -> CircuitBreakParameters | None:
    """The circuit-break rule that wins: enabled policies by priority (higher first), then
    policyId; the first circuit-break rule of the first such policy."""
    if sidecar is None:
        return None
    policies = sorted(
        (p for p in sidecar.policies if p.enabled and p.type == "circuit-breaker"),
        key=lambda p: (-p.priority, p.policyId),
    )
    for policy in policies:
        for rule in policy.rules:
            if isinstance(rule, PolicyCircuitBreakRule):
                return rule.parameters
    return None


def _thresholds(params: CircuitBreakParameters) -> circuit_breaker_pb2.CircuitBreakers:
    thresholds = circuit_breaker_pb2.CircuitBreakers.Thresholds(priority=base_pb2.DEFAULT)
    for field, value in (
        ("max_connections", params.maxConnections),
        ("max_pending_requests", params.maxPendingRequests),
        ("max_requests", params.maxRequests),
        ("max_retries", params.maxRetries),
    ):
        if value is not None:
            getattr(thresholds, field).value = value
    if params.maxRetries is None:
        # No fixed cap: retries may add RETRY_BUDGET_PERCENT % to the active requests (at
        # least RETRY_BUDGET_MIN_CONCURRENCY at once), so they scale with load but cannot
        # multiply it in an outage. Envoy's budget replaces max_retries, hence only without it.
        thresholds.retry_budget.budget_percent.value = RETRY_BUDGET_PERCENT
        thresholds.retry_budget.min_retry_concurrency.value = RETRY_BUDGET_MIN_CONCURRENCY
    return circuit_breaker_pb2.CircuitBreakers(thresholds=[thresholds])


def outlier_detection(params: CircuitBreakParameters) -> outlier_detection_pb2.OutlierDetection:
    """Eject a host after `failureThreshold` consecutive errors of the listed kinds.

    Local-origin errors (connect failures, resets, timeouts) are counted apart from HTTP
    5xx (`split_external_local_origin_errors`), so each error type switches on only its own
    detector: 5xx → consecutive_5xx, gateway-error → consecutive_gateway_failure,
    timeout and connection-error → consecutive_local_origin_failure. Every other detector,
    including those Envoy enables by default, is set to enforce 0 %. The ejection lasts
    `recoveryTimeout`, with max_ejection_time equal so it does not grow with each ejection;
    any share of the hosts may be ejected (max_ejection_percent 100).
    """
    kinds = set(params.errorTypes)
    ejection = duration_ms(params.recoveryTimeout * 1000)
    detection = outlier_detection_pb2.OutlierDetection(
        split_external_local_origin_errors=True,
        base_ejection_time=ejection,
        max_ejection_time=ejection,
    )
    # The spec's breaker opens per instance, however many fail: Envoy's default (at most
    # 10 % of hosts ejected) would never eject one of two. Panic routing still applies
    # when most hosts are out.
    detection.max_ejection_percent.value = 100
    detectors = (
        ("consecutive_5xx", "enforcing_consecutive_5xx", "5xx" in kinds),
        (
            "consecutive_gateway_failure",
            "enforcing_consecutive_gateway_failure",
            "gateway-error" in kinds,
        ),
        (
            "consecutive_local_origin_failure",
            "enforcing_consecutive_local_origin_failure",
            bool(kinds & {"timeout", "connection-error"}),
        ),
    )
    for count, enforcing, enabled in detectors:
        getattr(detection, count).value = params.failureThreshold
        getattr(detection, enforcing).value = 100 if enabled else 0
    detection.enforcing_success_rate.value = 0
    detection.enforcing_local_origin_success_rate.value = 0
    detection.enforcing_failure_percentage.value = 0
    detection.enforcing_failure_percentage_local_origin.value = 0
    return detection


def cluster(state: MeshState, service: Service) -> cluster_pb2.Cluster:
    """The one cluster every sidecar uses to reach `service`."""
    sidecar = state.sidecar_of_service(service.name)
    timeouts = sidecar.routing.timeout if sidecar is not None else None
    algorithm = algorithm_of(state, service.name)
    protocol = service.primary.protocol
    result = Cluster(name=cluster_name(service.name), lb_policy=LB_POLICY[algorithm])
    connect = timeouts.connect if timeouts is not None else DEFAULT_CONNECT_TIMEOUT_MS
    result.connect_timeout.seconds, milliseconds = divmod(connect, 1000)
    result.connect_timeout.nanos = milliseconds * 1_000_000
    if uses_eds(service):
        result.type = Cluster.EDS
        result.eds_cluster_config.eds_config.CopyFrom(ads_config_source())
        result.eds_cluster_config.service_name = result.name
    else:
        result.type = Cluster.STRICT_DNS
        result.dns_lookup_family = Cluster.V4_PREFERRED
        result.load_assignment.CopyFrom(load_assignment(service, weighted=algorithm == "weighted"))
    result.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].CopyFrom(
        _protocol_options(protocol, timeouts.idle if timeouts is not None else None)
    )
    if mtls_of(state, service.name) is not None:
        result.transport_socket.CopyFrom(upstream_mtls_socket(service))
    elif protocol in ("https", "grpcs"):
        result.transport_socket.CopyFrom(_transport_socket(service))
    health_check(service.primary.registration, result.health_checks.add())
    # The registry decides membership: an instance that expires or deregisters leaves at
    # once, even while Envoy's own active checks would still pass it.
    result.ignore_health_on_host_removal = True
    params = circuit_break_parameters(sidecar)
    if params is not None:
        breakers, detection = _breaker(_content(params))
        result.circuit_breakers.CopyFrom(breakers)
        result.outlier_detection.CopyFrom(detection)
    return result


def _content(params: CircuitBreakParameters) -> tuple[tuple[str, object], ...]:
    """A hashable copy of the parameters' values (lists as tuples)."""
    return tuple(
        (name, tuple(value) if isinstance(value, list) else value)
        for name, value in params.__dict__.items()
    )


@functools.lru_cache(maxsize=256)
def _breaker(
    content: tuple[tuple[str, object], ...],
) -> tuple[circuit_breaker_pb2.CircuitBreakers, outlier_detection_pb2.OutlierDetection]:
    """Thresholds and outlier detection, once per distinct parameters (clusters copy them)."""
    values = {name: list(v) if isinstance(v, tuple) else v for name, v in content}
    params = CircuitBreakParameters.model_validate(values)
    return _thresholds(params), outlier_detection(params)


def clusters(
    state: MeshState, names: Sequence[str] | None = None
) -> tuple[cluster_pb2.Cluster, ...]:
    """Clusters of the given destinations (default: every service), sorted by name."""
    wanted = sorted(state.services) if names is None else sorted(set(names))
    return tuple(cluster(state, state.services[n]) for n in wanted if n in state.services)
