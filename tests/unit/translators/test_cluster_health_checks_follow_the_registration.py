"""A registration's healthCheck becomes the cluster's active health check: timings and
thresholds, HTTP path, method, headers, body and expected statuses as ranges, or the gRPC
health protocol with its service name for grpc services."""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2
from envoy.type.v3 import http_pb2

from lucid.translators.clusters import cluster
from lucid.translators.health_checks import status_ranges
from tests.builders import endpoint, health_check, instance


def the_check(mesh, **registration):
    state = mesh([instance("blockchain-core", 1, **registration)])
    (check,) = cluster(state, state.services["blockchain-core"]).health_checks
    return check


def test_timings_and_thresholds(mesh):
    check = the_check(
        mesh,
        healthCheck=health_check(interval=15, timeout=2, failureThreshold=4, successThreshold=2),
    )
    assert check.interval.seconds == 15
    assert check.no_traffic_interval.seconds == 15
    assert check.timeout.seconds == 2
    assert check.unhealthy_threshold.value == 4
    assert check.healthy_threshold.value == 2


def test_plain_http_check_gets_path_and_200(mesh):
    http = the_check(mesh, healthCheck=health_check(endpoint="/ready")).http_health_check
    assert http.path == "/ready"
    assert http.host == "blockchain-core"
    assert http.method == base_pb2.GET
    assert [(r.start, r.end) for r in http.expected_statuses] == [(200, 201)]


def test_http_check_method_headers_body_and_statuses(mesh):
    http_check = {
        "method": "POST",
        "headers": {"x-probe": "lucid", "accept": "text/plain"},
        "body": "ping",
        "expectedStatus": [204, 200, 201],
    }
    http = the_check(mesh, healthCheck=health_check(httpCheck=http_check)).http_health_check
    assert http.method == base_pb2.POST
    assert http.send.binary == b"ping"
    headers = [(h.header.key, h.header.value) for h in http.request_headers_to_add]
    assert headers == [("accept", "text/plain"), ("x-probe", "lucid")]
    assert [(r.start, r.end) for r in http.expected_statuses] == [(200, 202), (204, 205)]


def test_status_ranges_merge_neighbours():
    assert [(r.start, r.end) for r in status_ranges([503, 200, 201, 202, 200])] == [
        (200, 203),
        (503, 504),
    ]


def test_grpc_service_uses_the_grpc_health_protocol(mesh):
    check = the_check(
        mesh,
        endpoint=endpoint(host="10.0.0.1", protocol="grpc"),
        healthCheck=health_check(timeout=10, grpcCheck={"service": "lucid.Chain", "timeout": 3}),
    )
    assert check.grpc_health_check.service_name == "lucid.Chain"
    assert check.timeout.seconds == 3


def test_grpc_service_with_an_http_check_speaks_http2(mesh):
    check = the_check(
        mesh,
        endpoint=endpoint(host="10.0.0.1", protocol="grpc"),
        healthCheck=health_check(httpCheck={"method": "GET"}),
    )
    assert check.http_health_check.codec_client_type == http_pb2.HTTP2
