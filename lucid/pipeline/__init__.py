"""The push pipeline and the assembly of the xDS side of `lucid serve`.

`build_xds` wires one cache, one proxy registry, the metrics, the config events, the
pipeline and the gRPC server together, so `lucid serve` (and the protocol tests, and the
benchmark) start the same thing: run every component in `XdsParts.components`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector

from lucid.ca import CertificateAuthority
from lucid.pipeline.debounce import DebounceConfig
from lucid.pipeline.events import ConfigEvents
from lucid.pipeline.pipeline import DEFAULT_RENEW_INTERVAL, Pipeline
from lucid.store import Store
from lucid.xds.cache import SnapshotCache
from lucid.xds.server import ProxyRegistry, XdsMetrics, XdsOptions, XdsServer
from lucid.xds.server.views import XdsStatus

CA_DIRECTORY = "ca"

__all__ = ["DebounceConfig", "Pipeline", "XdsParts", "build_xds"]


@dataclass
class XdsParts:
    cache: SnapshotCache
    proxies: ProxyRegistry
    metrics: XdsMetrics
    events: ConfigEvents
    pipeline: Pipeline
    server: XdsServer

    @property
    def components(self) -> list[XdsServer | Pipeline | ConfigEvents]:
        return [self.server, self.pipeline, self.events]

    def status(self) -> XdsStatus:
        return XdsStatus(self.proxies, self.cache, self.metrics.registry, self.server.address)


def build_xds(
    store: Store,
    *,
    options: XdsOptions | None = None,
    data_dir: Path | None = None,
    ca: CertificateAuthority | None = None,
    debounce: DebounceConfig | None = None,
    renew_interval: float = DEFAULT_RENEW_INTERVAL,
) -> XdsParts:
    """Everything xDS needs, bound and ready to run. Workload identities come from `ca`,
    else from the CA in `<data_dir>/ca` (created on first use); with neither, SDS serves
    no secrets. Raises XdsBindError if the address is taken."""
    if ca is None and data_dir is not None:
        ca = CertificateAuthority.load(data_dir / CA_DIRECTORY)
    cache = SnapshotCache()
    proxies = ProxyRegistry()
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)  # the server's RSS, CPU and open files
    metrics = XdsMetrics(registry, proxies)
    events = ConfigEvents(store)
    proxies.hooks.extend([metrics, events])
    pipeline = Pipeline(
        store, cache, ca=ca, metrics=metrics, debounce=debounce, renew_interval=renew_interval
    )
    events.blame = pipeline.culprits
    server = XdsServer(cache, proxies, options or XdsOptions())
    return XdsParts(cache, proxies, metrics, events, pipeline, server)
