"""Assembles the REST API from its parts: one router per kind, the batch routes, auth, errors.

`create_app` is the only entry point and takes everything it needs as arguments, so each
test (and each `lucid serve`) gets its own application over its own store, and importing
this module builds nothing.
"""

from __future__ import annotations

from importlib import metadata

from fastapi import FastAPI

from lucid.api.auth import bearer_guard
from lucid.api.batch_routes import batch_router
from lucid.api.errors import install_error_handlers
from lucid.api.kind_routes import kind_router
from lucid.api.openapi import install_openapi
from lucid.api.proxy_routes import proxy_router
from lucid.api.registry_routes import registry_router
from lucid.kinds import KINDS
from lucid.registry import Registry
from lucid.resources import Resources

_DESCRIPTION = (
    "Management API of Lucid Mesh. Reads are open; writes (POST, PUT, DELETE) need "
    '`Authorization: Bearer <token>`. Errors are `{"error": {"code", "message", '
    '"details"}}` with a LUCID_ERR code.'
)


def _version() -> str:
    try:
        return metadata.version("lucid-mesh")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def create_app(
    resources: Resources,
    *,
    token: str,
    registry: Registry | None = None,
    registration_token: str | None = None,
) -> FastAPI:
    """The API over `resources`; writes need `token` as a bearer token.

    With a `registry`, `/v1/services` is the registration API (service tokens, heartbeats,
    live health; `registration_token` may register too); without one it is plain CRUD.
    """
    guard = bearer_guard(token)
    app = FastAPI(title="Lucid Mesh", version=_version(), description=_DESCRIPTION)
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(batch_router(resources, guard))
    app.include_router(proxy_router())
    for kind in KINDS:
        if registry is not None and kind.plural == "services":
            app.include_router(
                registry_router(
                    registry, operator_token=token, registration_token=registration_token
                )
            )
        else:
            app.include_router(kind_router(kind, resources, guard))
    install_openapi(app)
    return app
