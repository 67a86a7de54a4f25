"""The xDS gRPC servers: ADS (SotW and delta), per-type services, CSDS, proxy status.

gRPC status codes appear in this package and nowhere else. The servers depend on the
cache only through `ConfigWatcher` (streams) and `ConfigFetcher` (status views).
"""

from lucid.xds.server.app import XdsBindError, XdsServer
from lucid.xds.server.metrics import XdsMetrics
from lucid.xds.server.options import DEFAULT_XDS_HOST, DEFAULT_XDS_PORT, XdsOptions
from lucid.xds.server.status import ProxyRegistry, StatusHook, StreamStatus

__all__ = [
    "DEFAULT_XDS_HOST",
    "DEFAULT_XDS_PORT",
    "ProxyRegistry",
    "StatusHook",
    "StreamStatus",
    "XdsBindError",
    "XdsMetrics",
    "XdsOptions",
    "XdsServer",
]
