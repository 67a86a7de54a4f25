"""Limits and transport settings of the xDS server, with defaults fit for a sidecar mesh.

A hostile or broken client must only hurt its own stream: request size is capped by
gRPC, and the number and length of resource names by the sessions, which end the
stream with RESOURCE_EXHAUSTED or INVALID_ARGUMENT. Keepalive lets the server notice
dead proxies (and lets proxies ping without being cut off), and the per-connection
stream cap bounds what one client connection can open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_XDS_HOST = "127.0.0.1"
DEFAULT_XDS_PORT = 18000


@dataclass(frozen=True)
class XdsOptions:
    host: str = DEFAULT_XDS_HOST
    port: int = DEFAULT_XDS_PORT
    # resource names in one request (SotW list, or delta subscribe + unsubscribe + initial)
    max_names_per_request: int = 20_000
    # names one stream may hold subscribed for one type
    max_subscribed: int = 50_000
    max_name_length: int = 1024
    # NACK messages kept for status and events are cut to this many characters
    max_error_detail: int = 4096
    max_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_streams: int = 256  # HTTP/2 streams per client connection
    max_concurrent_rpcs: int = 20_000  # streams in the whole server
    keepalive_time_s: float = 30.0
    keepalive_timeout_s: float = 10.0
    min_client_ping_interval_s: float = 10.0
    shutdown_grace_s: float = 2.0

    def grpc_options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_concurrent_streams", self.max_concurrent_streams),
            ("grpc.keepalive_time_ms", int(self.keepalive_time_s * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout_s * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            (
                "grpc.http2.min_ping_interval_without_data_ms",
                int(self.min_client_ping_interval_s * 1000),
            ),
            ("grpc.http2.max_ping_strikes", 2),
            # Streams that arrive faster than the loop starts handlers wait in gRPC core;
            # past its default of 1,000 waiting it cancels them, so a thousand proxies
            # reconnecting at once (a control-plane restart) would be turned away.
            ("grpc.server.max_pending_requests", self.max_concurrent_rpcs),
            ("grpc.server.max_pending_requests_hard_limit", self.max_concurrent_rpcs),
            ("grpc.so_reuseport", 0),
        ]
