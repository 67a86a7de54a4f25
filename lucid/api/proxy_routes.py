"""Connected proxies and metrics: `GET /v1/proxies`, `GET /v1/proxies/{node}/config`,
`GET /metrics`.

The xDS server runs in the same process; `lucid serve` puts its status (`XdsStatus`) on
`app.state.xds`, so this router needs no constructor arguments and an API without xDS
(unit tests, a future API-only process) answers 503 with a LUCID code instead of
failing. The handlers are `async` on purpose: stream status is mutated on the event loop
by the xDS sessions, so it is read there too, never from the threadpool. Secrets in a
config dump are always redacted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lucid.errors import ErrorCode, NotFound, Unavailable
from lucid.xds.server.views import XdsStatus, config_dump, proxies


def _status(request: Request) -> XdsStatus:
    status = getattr(request.app.state, "xds", None)
    if not isinstance(status, XdsStatus):
        raise Unavailable(
            ErrorCode.MESH_CONTROLLER_UNAVAILABLE,
            "the xDS server is not running in this process",
            http_status=503,
        )
    return status


def proxy_router() -> APIRouter:
    router = APIRouter(tags=["proxies"])

    @router.get(
        "/v1/proxies",
        summary="Connected proxies",
        description="Each open xDS stream: node, service, transport, connected since, and "
        "per type the last sent and ACKed versions and any NACK error.",
    )
    async def list_proxies(request: Request) -> dict[str, Any]:
        status = _status(request)
        return {"xdsAddress": status.address, "items": proxies(status.registry, status.fetcher)}

    @router.get(
        "/v1/proxies/{node_id}/config",
        summary="What the control plane sent one proxy",
        description="Every resource last sent to the node, with version and ACK state; "
        "secrets redacted.",
    )
    async def proxy_config(request: Request, node_id: str) -> dict[str, Any]:
        dump = config_dump(_status(request).registry, node_id)
        if dump is None:
            raise NotFound(ErrorCode.SIDECAR_PROXY_UNAVAILABLE, "connected proxy", node_id)
        return dump

    @router.get("/metrics", summary="Prometheus metrics", tags=["health"])
    async def metrics(request: Request) -> Response:
        registry = _status(request).metrics
        if registry is None:
            raise Unavailable(
                ErrorCode.MESH_CONTROLLER_UNAVAILABLE, "no metrics in this process", http_status=503
            )
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
