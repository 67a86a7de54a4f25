"""`/v1/services`: the registration API, where instances register, heartbeat and leave.

Three kinds of bearer token reach these routes, each with its own rights:

    token                     register  heartbeat    deregister   replace (PUT)
    operator (api-token)      yes       no           any service  yes
    registration token        yes       no           no           no
    service token (per id)    no        itself only  itself only  no

A service token is issued once, in the response to its POST, and stored only as a hash;
heartbeats prove an instance is alive, so only the instance itself may send them (an
operator's token is not a service token). Unknown tokens are 401, known tokens without the
right are 403, and authorisation is decided before the registration is looked up, so a
caller without rights cannot probe which serviceIds exist. Reads are open, as elsewhere.
Endpoints are plain `def` (run in the threadpool): the store blocks.
"""

# No `from __future__ import annotations`: FastAPI must see the real types of the
# dependencies that the route functions below close over.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from lucid.api.auth import bearer_token
from lucid.api.body import bad_request, body_reader
from lucid.api.kind_routes import filter_fields, parse_body, parse_filters
from lucid.api.openapi import json_body, model_ref
from lucid.errors import Forbidden, Unauthorized
from lucid.models import ServiceRegistration
from lucid.registry import Registry
from lucid.registry.registry import KIND
from lucid.registry.tokens import same_secret
from lucid.registry.views import health_of, view


@dataclass(frozen=True)
class Caller:
    role: str  # "operator", "registrar" or "service"
    service_id: str | None = None


def caller_of(
    operator_token: str, registration_token: str | None, registry: Registry
) -> Callable[[Request], Caller]:
    """A FastAPI dependency naming who sent a request (401 for an unknown token)."""

    def identify(request: Request) -> Caller:
        presented = bearer_token(request)
        if same_secret(presented, operator_token):
            return Caller("operator")
        if registration_token and same_secret(presented, registration_token):
            return Caller("registrar")
        owner = registry.owner_of(presented)
        if owner is not None:
            return Caller("service", owner)
        raise Unauthorized("the bearer token is not valid")

    return identify


def _model(raw: bytes) -> ServiceRegistration:
    model = parse_body(KIND, raw)
    assert isinstance(model, ServiceRegistration)
    return model


def registry_router(
    registry: Registry, *, operator_token: str, registration_token: str | None
) -> APIRouter:
    router = APIRouter(prefix="/v1/services", tags=[KIND.name])
    Body = Annotated[bytes, Depends(body_reader(KIND.invalid_code))]
    Who = Annotated[Caller, Depends(caller_of(operator_token, registration_token, registry))]
    body_doc = json_body(
        model_ref(KIND.model.__name__),
        description=f"a {KIND.name} (the spec object, or a whole manifest)",
    )

    @router.get(
        "",
        summary="List registrations",
        description="Equality filters as query parameters: "
        + ", ".join(filter_fields(KIND))
        + ". Each item's status carries the live health, last heartbeat and TTL left.",
    )
    def list_services(request: Request) -> dict[str, Any]:
        where = parse_filters(KIND, request.query_params)
        return {"items": [view(registry, r) for r in registry.list(where)]}

    @router.get("/{service_id}", summary="Read one registration")
    def get_service(service_id: str) -> dict[str, Any]:
        return view(registry, registry.get(service_id))

    @router.get("/{service_id}/health", summary="The registration's HealthStatus")
    def get_health(service_id: str) -> dict[str, Any]:
        return health_of(registry, registry.get(service_id))

    @router.post(
        "",
        summary="Register an instance",
        description="Needs the operator or the registration token. The response carries "
        "`serviceToken`, shown only this once: the instance's credential for its heartbeats "
        "and its deregistration.",
        status_code=201,
        openapi_extra=body_doc,
    )
    def register(who: Who, raw: Body) -> JSONResponse:
        if who.role not in ("operator", "registrar"):
            raise Forbidden("registering needs the operator or the registration token")
        stored, token = registry.register(_model(raw))
        return JSONResponse(
            {**view(registry, stored), "serviceToken": token},
            status_code=201,
            headers={"Location": f"/v1/services/{stored.key}", "Cache-Control": "no-store"},
        )

    @router.put(
        "/{service_id}/heartbeat",
        summary="Renew a registration's TTL (its own service token only)",
    )
    def heartbeat(service_id: str, who: Who) -> dict[str, Any]:
        if who.role != "service":
            raise Forbidden("heartbeats need the service's own token; operators' are not one")
        if who.service_id != service_id:
            raise Forbidden("a service may renew only its own registration")
        status = view(registry, registry.renew(service_id))["status"]
        return {"serviceId": service_id, **status}

    @router.put(
        "/{service_id}",
        summary="Create or replace a registration (operators)",
        openapi_extra=body_doc,
    )
    def put_service(service_id: str, who: Who, raw: Body) -> JSONResponse:
        if who.role != "operator":
            raise Forbidden("replacing a registration needs the operator token")
        model = _model(raw)
        if model.serviceId != service_id:
            raise bad_request(
                KIND.invalid_code,
                KIND.key_field,
                model.serviceId,
                f"must equal the name in the path ({service_id!r})",
            )
        action = registry.replace(model)
        stored = registry.get(service_id)
        return JSONResponse(view(registry, stored), status_code=201 if action == "created" else 200)

    @router.delete("/{service_id}", summary="Deregister (the service itself, or operators)")
    def deregister(service_id: str, who: Who) -> dict[str, Any]:
        if who.role == "registrar":
            raise Forbidden("the registration token cannot deregister; use the service token")
        if who.role == "service" and who.service_id != service_id:
            raise Forbidden("a service may deregister only itself")
        registry.deregister(service_id)
        return {"items": [{"kind": KIND.name, "name": service_id, "action": "deleted"}]}

    return router
