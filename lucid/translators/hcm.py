"""The HTTP connection manager every Lucid listener uses, with its access logs and tracing.

Inbound, outbound and edge listeners differ in their filters and routes, not in how they
log and trace: those come from the sidecar's `monitoring` block, so they are built here
once and the listener translators only pass what differs.

| spec (monitoring)          | Envoy                                                    |
|----------------------------|----------------------------------------------------------|
| logging.enabled            | stdout access log (`envoy.access_loggers.stdout`)        |
| logging.format json / text | `json_format` with `ACCESS_LOG_FIELDS` / one text line   |
| logging.level error        | only requests answered with status ≥ 500 are logged      |
| logging.level warn         | status ≥ 400; debug and info log every request           |
| tracing.samplingRate       | `random_sampling` in percent (0.05 → 5 %)                |
| tracing.endpoint           | OpenTelemetry (gRPC) provider, cluster `tracing|<h:p>`   |
| metrics                    | Envoy's own stats on its admin port; nothing to send     |

Without a monitoring block (or a sidecar configuration) access logs stay on in JSON:
operators expect to see requests, and the cost is one line per request.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import Final
from urllib.parse import urlsplit

from envoy.config.accesslog.v3 import accesslog_pb2
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import (
    address_pb2,
    grpc_service_pb2,
    protocol_pb2,
)
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2
from envoy.config.route.v3 import route_pb2
from envoy.config.trace.v3 import http_tracer_pb2, opentelemetry_pb2
from envoy.extensions.access_loggers.stream.v3 import stream_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from envoy.type.v3 import percent_pb2
from google.protobuf import struct_pb2

from lucid.models.config import LoggingConfig, MonitoringConfig, TracingConfig
from lucid.models.sidecar import SidecarConfiguration
from lucid.translators.clusters import HTTP_PROTOCOL_OPTIONS, duration_ms
from lucid.translators.messages import ads_config_source, pack

HCM_FILTER: Final = "envoy.filters.network.http_connection_manager"
ROUTER_FILTER: Final = "envoy.filters.http.router"
STDOUT_LOGGER: Final = "envoy.access_loggers.stdout"
TRACING_CLUSTER_PREFIX: Final = "tracing|"

# What a JSON access-log line carries; the README and docs/translation.md promise these.
ACCESS_LOG_FIELDS: Final[dict[str, str]] = {
    "start_time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "status": "%RESPONSE_CODE%",
    "response_flags": "%RESPONSE_FLAGS%",
    "bytes_received": "%BYTES_RECEIVED%",
    "bytes_sent": "%BYTES_SENT%",
    "duration_ms": "%DURATION%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_cluster": "%UPSTREAM_CLUSTER%",
    "authority": "%REQ(:AUTHORITY)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "source": "%REQ(X-LUCID-SOURCE)%",
    "peer_identity": "%DOWNSTREAM_PEER_URI_SAN%",
    "listener": "%ACCESS_LOG_TYPE%",
}
TEXT_FORMAT: Final = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    '"%UPSTREAM_HOST%" "%REQ(X-REQUEST-ID)%" "%REQ(X-LUCID-SOURCE)%"\n'
)
# The lowest status logged at each level; None logs everything.
_LEVEL_MIN_STATUS: Final[dict[str, int | None]] = {
    "debug": None,
    "info": None,
    "warn": 400,
    "error": 500,
}


def _monitoring(sidecar: SidecarConfiguration | None) -> MonitoringConfig:
    if sidecar is None or sidecar.monitoring is None:
        return MonitoringConfig()
    return sidecar.monitoring


def access_logs(sidecar: SidecarConfiguration | None) -> list[accesslog_pb2.AccessLog]:
    """The stdout access log the sidecar's `monitoring.logging` asks for (JSON by default)."""
    logging = _monitoring(sidecar).logging or LoggingConfig()
    if not logging.enabled:
        return []
    return [_access_log(logging.format, logging.level)]


@functools.cache
def _access_log(format: str, level: str) -> accesslog_pb2.AccessLog:
    """Built once per (format, level): every listener of the mesh shares a handful; the
    HCM copies it, so the cached message is never changed."""
    stdout = stream_pb2.StdoutAccessLog()
    log_format = stdout.log_format
    if format == "json":
        log_format.json_format.CopyFrom(
            struct_pb2.Struct(
                fields={
                    key: struct_pb2.Value(string_value=value)
                    for key, value in sorted(ACCESS_LOG_FIELDS.items())
                }
            )
        )
    else:
        log_format.text_format_source.inline_string = TEXT_FORMAT
    log = accesslog_pb2.AccessLog(name=STDOUT_LOGGER, typed_config=pack(stdout))
    minimum = _LEVEL_MIN_STATUS[level]
    if minimum is not None:
        log.filter.status_code_filter.comparison.op = accesslog_pb2.ComparisonFilter.GE
        log.filter.status_code_filter.comparison.value.default_value = minimum
        log.filter.status_code_filter.comparison.value.runtime_key = "lucid.access_log.min_status"
    return log


def _collector(endpoint: str) -> tuple[str, int]:
    """host and port of a tracing endpoint given as `host:port` or a URL (default 4317)."""
    parts = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
    return parts.hostname or endpoint, parts.port or 4317


def tracing_cluster_name(endpoint: str) -> str:
    host, port = _collector(endpoint)
    return f"{TRACING_CLUSTER_PREFIX}{host}:{port}"


def _tracing_config(sidecar: SidecarConfiguration | None) -> TracingConfig | None:
    tracing = _monitoring(sidecar).tracing
    return tracing if tracing is not None and tracing.enabled else None


def tracing(
    sidecar: SidecarConfiguration | None, service: str
) -> hcm_pb2.HttpConnectionManager.Tracing | None:
    """HCM tracing: random sampling from samplingRate; OpenTelemetry when an endpoint is set."""
    config = _tracing_config(sidecar)
    if config is None:
        return None
    result = hcm_pb2.HttpConnectionManager.Tracing(
        random_sampling=percent_pb2.Percent(value=config.samplingRate * 100)
    )
    if config.endpoint:
        otel = opentelemetry_pb2.OpenTelemetryConfig(
            grpc_service=grpc_service_pb2.GrpcService(
                envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(
                    cluster_name=tracing_cluster_name(config.endpoint)
                )
            ),
            service_name=service,
        )
        result.provider.CopyFrom(
            http_tracer_pb2.Tracing.Http(
                name="envoy.tracers.opentelemetry", typed_config=pack(otel)
            )
        )
    return result


def tracing_clusters(sidecar: SidecarConfiguration | None) -> list[cluster_pb2.Cluster]:
    """The collector cluster a sidecar's tracing endpoint needs (HTTP/2, DNS), if any."""
    config = _tracing_config(sidecar)
    if config is None or not config.endpoint:
        return []
    host, port = _collector(config.endpoint)
    name = tracing_cluster_name(config.endpoint)
    options = http_protocol_options_pb2.HttpProtocolOptions()
    options.explicit_http_config.http2_protocol_options.CopyFrom(
        protocol_pb2.Http2ProtocolOptions()
    )
    locality = endpoint_components_pb2.LocalityLbEndpoints(
        lb_endpoints=[
            endpoint_components_pb2.LbEndpoint(
                endpoint=endpoint_components_pb2.Endpoint(
                    address=address_pb2.Address(
                        socket_address=address_pb2.SocketAddress(address=host, port_value=port)
                    )
                )
            )
        ]
    )
    result = cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.STRICT_DNS,
        connect_timeout=duration_ms(1000),
        load_assignment=endpoint_pb2.ClusterLoadAssignment(cluster_name=name, endpoints=[locality]),
    )
    result.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].CopyFrom(pack(options))
    return [result]


def monitoring_key(sidecar: SidecarConfiguration | None, service: str) -> Hashable:
    """Everything `http_connection_manager` reads from the sidecar (access logs, tracing):
    listeners whose other inputs agree and whose keys are equal are the same message."""
    logging = _monitoring(sidecar).logging or LoggingConfig()
    logs = (logging.format, logging.level) if logging.enabled else None
    config = _tracing_config(sidecar)
    traced = None
    if config is not None:
        traced = (config.samplingRate, config.endpoint, service if config.endpoint else None)
    return logs, traced


@functools.cache
def router_filter() -> hcm_pb2.HttpFilter:
    """The terminal filter; typed, because gRPC proxyless clients require it. Built once:
    an HCM copies it."""
    return hcm_pb2.HttpFilter(name=ROUTER_FILTER, typed_config=pack(router_pb2.Router()))


def http_connection_manager(
    *,
    stat_prefix: str,
    http_filters: Sequence[hcm_pb2.HttpFilter],
    sidecar: SidecarConfiguration | None,
    service: str,
    route_config_name: str | None = None,
    route_config: route_pb2.RouteConfiguration | None = None,
    idle_timeout_ms: int | None = None,
) -> hcm_pb2.HttpConnectionManager:
    """An HCM with RDS over ADS (or an inline route table), the given filters, then the
    router; access logs and tracing from the sidecar's monitoring block."""
    if (route_config_name is None) == (route_config is None):
        raise ValueError("give exactly one of route_config_name and route_config")
    manager = hcm_pb2.HttpConnectionManager(
        stat_prefix=stat_prefix,
        codec_type=hcm_pb2.HttpConnectionManager.AUTO,
        http_filters=[*http_filters, router_filter()],
        access_log=access_logs(sidecar),
    )
    if route_config_name is not None:
        manager.rds.route_config_name = route_config_name
        manager.rds.config_source.CopyFrom(ads_config_source())
    else:
        assert route_config is not None
        manager.route_config.CopyFrom(route_config)
    trace = tracing(sidecar, service)
    if trace is not None:
        manager.tracing.CopyFrom(trace)
    if idle_timeout_ms is not None:
        manager.common_http_protocol_options.idle_timeout.CopyFrom(duration_ms(idle_timeout_ms))
    return manager


def http_connection_manager_filter(
    manager: hcm_pb2.HttpConnectionManager,
) -> listener_components_pb2.Filter:
    """The network filter that carries an HCM."""
    return listener_components_pb2.Filter(name=HCM_FILTER, typed_config=pack(manager))
