"""Prometheus metrics of the xDS server, in a registry of their own (one per server).

Connected proxies, responses pushed and their size, ACKs and NACKs by type, how long a
change takes to be ACKed (from the moment the pipeline first saw it in the store to the
proxy's ACK of a response carrying it), and how long translation takes. They are a
`StatusHook`, so the sessions never call them directly.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from lucid.xds.resources import SHORT_NAMES, TypeUrl
from lucid.xds.server.status import ProxyRegistry, StreamStatus

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BYTES = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)


def _short(type_url: TypeUrl) -> str:
    return SHORT_NAMES.get(type_url, "other")


class XdsMetrics:
    def __init__(self, registry: CollectorRegistry, proxies: ProxyRegistry) -> None:
        self.registry = registry
        self.streams = Gauge(
            "lucid_xds_streams", "Open xDS streams", ["transport"], registry=registry
        )
        self.proxies = Gauge(
            "lucid_xds_connected_proxies",
            "Distinct nodes with an open xDS stream",
            registry=registry,
        )
        self.proxies.set_function(lambda: len({s.node.id for s in proxies.streams()}))
        self.pushes = Counter("lucid_xds_pushes", "xDS responses sent", ["type"], registry=registry)
        self.push_size = Histogram(
            "lucid_xds_push_size_bytes",
            "Size of xDS responses sent",
            ["type"],
            buckets=_BYTES,
            registry=registry,
        )
        self.acks = Counter("lucid_xds_acks", "xDS responses ACKed", ["type"], registry=registry)
        self.nacks = Counter("lucid_xds_nacks", "xDS responses NACKed", ["type"], registry=registry)
        self.convergence = Histogram(
            "lucid_xds_convergence_seconds",
            "From a store change seen by the pipeline to a proxy's ACK of it",
            buckets=_SECONDS,
            registry=registry,
        )
        self.translation = Histogram(
            "lucid_xds_translation_seconds",
            "Loading the state, translating it and building snapshots (a round translates its"
            " first change early, then the rest of its changes if any)",
            buckets=_SECONDS,
            registry=registry,
        )
        self._children: dict[TypeUrl, tuple[Counter, Histogram, Counter, Counter]] = {}
        self.rounds = Counter(
            "lucid_xds_push_rounds", "Pipeline rounds, by outcome", ["outcome"], registry=registry
        )

    # StatusHook

    def connected(self, stream: StreamStatus) -> None:
        self.streams.labels(stream.transport).inc()

    def disconnected(self, stream: StreamStatus) -> None:
        self.streams.labels(stream.transport).dec()

    def _of(self, type_url: TypeUrl) -> tuple[Counter, Histogram, Counter, Counter]:
        """The labelled children of one type (looked up once: pushes are frequent)."""
        found = self._children.get(type_url)
        if found is None:
            short = _short(type_url)
            found = self._children[type_url] = (
                self.pushes.labels(short),
                self.push_size.labels(short),
                self.acks.labels(short),
                self.nacks.labels(short),
            )
        return found

    def sent(self, stream: StreamStatus, type_url: TypeUrl, size: int) -> None:
        pushes, push_size, _, _ = self._of(type_url)
        pushes.inc()
        push_size.observe(size)

    def accepted(
        self, stream: StreamStatus, type_url: TypeUrl, version: str, stamp: float | None
    ) -> None:
        self._of(type_url)[2].inc()
        if stamp is not None:
            self.convergence.observe(max(0.0, time.monotonic() - stamp))

    def rejected(self, stream: StreamStatus, type_url: TypeUrl, version: str, error: str) -> None:
        self._of(type_url)[3].inc()
