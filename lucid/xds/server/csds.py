"""CSDS (ClientStatusDiscoveryService): each connected proxy's config, as this server sees it.

For every live stream, every resource last sent with its version and whether the proxy
ACKed it, NACKed it (with the error) or has not answered yet. Streams of one node are
merged into one `ClientConfig`. `node_matchers` may select nodes by id; metadata
matchers are refused rather than silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from envoy.admin.v3 import config_dump_shared_pb2 as admin
from envoy.config.core.v3 import base_pb2
from envoy.service.status.v3 import csds_pb2, csds_pb2_grpc
from envoy.type.matcher.v3 import node_pb2, string_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from lucid.xds.server.status import ProxyRegistry, StreamStatus, TypeStatus, resource_states

_CONFIG_STATUS = {"ACKED": csds_pb2.SYNCED, "NACKED": csds_pb2.ERROR, "SENT": csds_pb2.STALE}
_CLIENT_STATUS = {"ACKED": admin.ACKED, "NACKED": admin.NACKED, "SENT": admin.REQUESTED}


class BadMatcher(ValueError):
    """A node matcher this server cannot apply."""


def _timestamp(seconds: float | None) -> Timestamp:
    stamp = Timestamp()
    if seconds is not None:
        stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def string_matches(matcher: string_pb2.StringMatcher, value: str) -> bool:
    kind = matcher.WhichOneof("match_pattern")
    fold = matcher.ignore_case and kind != "safe_regex"
    got = value.lower() if fold else value
    if kind in ("exact", "prefix", "suffix", "contains"):
        wanted = str(getattr(matcher, kind))
        wanted = wanted.lower() if fold else wanted
        if kind == "exact":
            return got == wanted
        if kind == "prefix":
            return got.startswith(wanted)
        if kind == "suffix":
            return got.endswith(wanted)
        return wanted in got
    if kind == "safe_regex":
        try:
            return re.fullmatch(matcher.safe_regex.regex, value) is not None
        except re.error as exc:
            raise BadMatcher(f"node_id regex: {exc}") from exc
    raise BadMatcher(f"unsupported string matcher {kind!r}")


def _selected(matchers: Sequence[node_pb2.NodeMatcher], node_id: str) -> bool:
    if not matchers:
        return True
    for matcher in matchers:
        if len(matcher.node_metadatas):
            raise BadMatcher("node_metadatas matchers are not supported; match on node_id")
        if not matcher.HasField("node_id") or string_matches(matcher.node_id, node_id):
            return True
    return False


def _generic(status: TypeStatus, *, contents: bool) -> list[csds_pb2.ClientConfig.GenericXdsConfig]:
    out = []
    for name, entry, state in resource_states(status):
        config = csds_pb2.ClientConfig.GenericXdsConfig(
            type_url=status.type_url,
            name=name,
            version_info=entry.version,
            last_updated=_timestamp(status.sent_at),
            config_status=_CONFIG_STATUS[state],
            client_status=_CLIENT_STATUS[state],
        )
        if contents:
            config.xds_config.CopyFrom(entry.as_any())
        if state == "NACKED" and status.nack is not None:
            config.error_state.CopyFrom(
                admin.UpdateFailureState(
                    details=status.nack.error,
                    version_info=status.nack.version,
                    last_update_attempt=_timestamp(status.nack.at),
                )
            )
        out.append(config)
    return out


def client_status(
    registry: ProxyRegistry, request: csds_pb2.ClientStatusRequest
) -> csds_pb2.ClientStatusResponse:
    by_node: dict[str, list[StreamStatus]] = {}
    for stream in registry.streams():
        if _selected(request.node_matchers, stream.node.id):
            by_node.setdefault(stream.node.id, []).append(stream)
    response = csds_pb2.ClientStatusResponse()
    for node_id, streams in by_node.items():
        config = response.config.add()
        config.node.CopyFrom(base_pb2.Node(id=node_id, cluster=streams[0].node.service))
        for stream in streams:
            for status in stream.ordered_types():
                config.generic_xds_configs.extend(
                    _generic(status, contents=not request.exclude_resource_contents)
                )
    return response


class ClientStatusService(csds_pb2_grpc.ClientStatusDiscoveryServiceServicer):  # type: ignore[misc]
    def __init__(self, registry: ProxyRegistry) -> None:
        self.registry = registry

    async def FetchClientStatus(
        self, request: csds_pb2.ClientStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> csds_pb2.ClientStatusResponse:
        try:
            return client_status(self.registry, request)
        except BadMatcher as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            raise  # abort raises; this line only tells mypy the function ends here

    async def StreamClientStatus(
        self,
        requests: AsyncIterator[csds_pb2.ClientStatusRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[csds_pb2.ClientStatusResponse]:
        async for request in requests:
            try:
                yield client_status(self.registry, request)
            except BadMatcher as exc:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
