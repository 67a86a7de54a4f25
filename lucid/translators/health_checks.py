"""Active health checks: a registration's `healthCheck` as Envoy's `Cluster.health_checks`.

The registry checks instances too, and feeds the result into EDS; Envoy's own checks
catch failures between two registry checks, from where the traffic actually flows.

| spec                          | Envoy                                                     |
|-------------------------------|-----------------------------------------------------------|
| interval, timeout (s)         | interval (also no_traffic_interval, else 60 s when idle), |
|                               | timeout                                                   |
| failureThreshold              | unhealthy_threshold                                       |
| successThreshold              | healthy_threshold                                         |
| endpoint                      | HTTP path                                                 |
| httpCheck.method, headers     | method; request_headers_to_add (replacing)                |
| httpCheck.body (POST only)    | send (the body's bytes)                                   |
| httpCheck.expectedStatus      | expected_statuses, consecutive codes merged into ranges   |
| grpcCheck.service, timeout    | grpc_health_check.service_name; timeout                   |

Which checker: a grpc/grpcs service is checked with the gRPC health protocol unless it
gives an httpCheck (then HTTP over HTTP/2, as the cluster speaks); an http/https service
always over HTTP, on `endpoint`, because Envoy's gRPC checker needs an HTTP/2 cluster.
Not representable: `retries` (the thresholds already say how many failures count) and
`grpcCheck.method` (the gRPC health protocol has one method); the warnings for these are
the validation layer's job.
"""

from __future__ import annotations

from collections.abc import Iterable

from envoy.config.core.v3 import base_pb2, health_check_pb2
from envoy.type.v3 import http_pb2, range_pb2
from google.protobuf import duration_pb2

from lucid.models.registration import HealthCheckConfig, ServiceRegistration

HealthCheck = health_check_pb2.HealthCheck

METHODS = {"GET": base_pb2.GET, "POST": base_pb2.POST, "HEAD": base_pb2.HEAD}


def status_ranges(statuses: Iterable[int]) -> list[range_pb2.Int64Range]:
    """Sorted, merged half-open ranges: [200, 204, 201, 202] → [200, 203), [204, 205)."""
    ranges: list[list[int]] = []
    for status in sorted(set(statuses)):
        if ranges and ranges[-1][1] == status:
            ranges[-1][1] = status + 1
        else:
            ranges.append([status, status + 1])
    return [range_pb2.Int64Range(start=start, end=end) for start, end in ranges]


def _seconds(value: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=value)


def _http_check(registration: ServiceRegistration) -> health_check_pb2.HealthCheck.HttpHealthCheck:
    config = registration.healthCheck
    check = config.httpCheck
    http = HealthCheck.HttpHealthCheck(
        host=registration.serviceName,
        path=config.endpoint,
        method=METHODS[check.method if check is not None else "GET"],
    )
    http.expected_statuses.extend(status_ranges(check.expectedStatus if check else [200]))
    if registration.endpoint.protocol in ("grpc", "grpcs"):
        http.codec_client_type = http_pb2.HTTP2
    if check is not None and check.headers:
        for name, value in sorted(check.headers.items()):
            http.request_headers_to_add.append(
                base_pb2.HeaderValueOption(
                    header=base_pb2.HeaderValue(key=name, value=value),
                    append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD,
                )
            )
    if check is not None and check.body is not None:
        http.send.binary = check.body.encode()
    return http


def _uses_grpc(registration: ServiceRegistration) -> bool:
    config: HealthCheckConfig = registration.healthCheck
    grpc_service = registration.endpoint.protocol in ("grpc", "grpcs")
    return grpc_service and config.httpCheck is None


def health_check(
    registration: ServiceRegistration, into: health_check_pb2.HealthCheck | None = None
) -> health_check_pb2.HealthCheck:
    """The one active health check of a registration (written into `into` when given)."""
    config = registration.healthCheck
    result = HealthCheck() if into is None else into
    result.timeout.seconds = config.timeout
    result.interval.seconds = config.interval
    result.no_traffic_interval.seconds = config.interval
    result.unhealthy_threshold.value = config.failureThreshold
    result.healthy_threshold.value = config.successThreshold
    if _uses_grpc(registration):
        grpc = config.grpcCheck
        result.grpc_health_check.service_name = (grpc.service or "") if grpc else ""
        result.grpc_health_check.authority = registration.serviceName
        if grpc is not None:
            result.timeout.seconds = grpc.timeout
    else:
        result.http_health_check.CopyFrom(_http_check(registration))
    return result


def health_checks(registration: ServiceRegistration) -> list[health_check_pb2.HealthCheck]:
    return [health_check(registration)]
