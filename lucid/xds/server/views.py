"""JSON views of the proxies for the REST API and the CLI: status and config dumps.

`proxies()` lists each live stream (node, service, transport, since when, and per type
the last sent and ACKed versions, any NACK, and whether the proxy is in sync with what
the cache says it should have now). `config_dump()` shows the resources the control plane
sent one node, decoded to JSON, with each one's version and ACK state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Registers every resource type in the protobuf pool, so an Any decodes to JSON.
from envoy.config.cluster.v3 import cluster_pb2  # noqa: F401
from envoy.config.endpoint.v3 import endpoint_pb2  # noqa: F401
from envoy.config.listener.v3 import listener_pb2  # noqa: F401
from envoy.config.route.v3 import route_pb2  # noqa: F401
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from google.protobuf.json_format import MessageToDict
from prometheus_client import CollectorRegistry

from lucid.xds.cache import ConfigFetcher
from lucid.xds.resources import SECRET
from lucid.xds.server.status import ProxyRegistry, StreamStatus, TypeStatus, resource_states


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _type_view(status: TypeStatus, desired: str | None) -> dict[str, Any]:
    nack = status.nack
    return {
        "subscription": status.subscription,
        "resources": len(status.sent),
        "sentVersion": status.sent_version or None,
        "sentAt": _iso(status.sent_at),
        "ackedVersion": status.acked_version or None,
        "ackedAt": _iso(status.acked_at),
        "inSync": bool(status.acked_version)
        and status.acked_version == status.sent_version
        and nack is None
        and (desired is None or desired == status.sent_version or status.subscription != "*"),
        "nack": None
        if nack is None
        else {"version": nack.version or None, "error": nack.error, "at": _iso(nack.at)},
    }


def _stream(stream: StreamStatus, fetcher: ConfigFetcher | None) -> dict[str, Any]:
    snapshot = fetcher.snapshot(stream.node) if fetcher is not None else None
    node = stream.node
    return {
        "stream": stream.id,
        "nodeId": node.id,
        "service": node.service,
        "serviceId": node.service_id,
        "plane": node.plane,
        "cluster": node.cluster,
        "proxyless": node.proxyless,
        "transport": stream.transport,
        "api": stream.api,
        "peer": stream.peer,
        "connectedSince": _iso(stream.connected_at),
        "types": {
            t.short: _type_view(
                t,
                snapshot.view(t.type_url).version
                if snapshot is not None and stream.transport == "sotw"
                else None,
            )
            for t in stream.ordered_types()
        },
    }


def proxies(registry: ProxyRegistry, fetcher: ConfigFetcher | None = None) -> list[dict[str, Any]]:
    return [_stream(s, fetcher) for s in registry.streams()]


def config_dump(
    registry: ProxyRegistry, node_id: str, *, include_secrets: bool = False
) -> dict[str, Any] | None:
    """What the control plane sent `node_id`, or None if no stream of it is open.

    Secrets are summarised (name and version) unless `include_secrets`: a dump is for
    reading configuration, and private keys do not belong in terminals or logs.
    """
    streams = registry.of_node(node_id)
    if not streams:
        return None
    out: dict[str, Any] = {"nodeId": node_id, "service": streams[0].node.service, "streams": []}
    for stream in streams:
        types: dict[str, Any] = {}
        for status in stream.ordered_types():
            resources = []
            for name, entry, state in resource_states(status):
                item: dict[str, Any] = {"name": name, "version": entry.version, "state": state}
                if status.type_url != SECRET or include_secrets:
                    item["resource"] = MessageToDict(entry.as_any())
                else:
                    item["resource"] = {"@type": SECRET, "name": name, "redacted": True}
                    secret_pb2.Secret.FromString(entry.value)  # still checks it decodes
                resources.append(item)
            types[status.short] = {
                "version": status.sent_version or None,
                "ackedVersion": status.acked_version or None,
                "nack": None if status.nack is None else status.nack.error,
                "resources": resources,
            }
        out["streams"].append(
            {"stream": stream.id, "transport": stream.transport, "api": stream.api, "types": types}
        )
    return out


@dataclass(frozen=True)
class XdsStatus:
    """What the REST API needs to show the xDS side: streams, snapshots, metrics."""

    registry: ProxyRegistry
    fetcher: ConfigFetcher | None
    metrics: CollectorRegistry | None
    address: str
