"""CRUD and list routes for one kind: `/v1/{plural}` and `/v1/{plural}/{name}`.

The same five routes exist for every kind in `lucid.kinds.KINDS`, so they are built by one
function from the kind's table row rather than written out five times. Endpoints are plain
`def`: the store is blocking, and FastAPI runs such endpoints in its threadpool, so a slow
store never stalls the event loop that also serves xDS.

A body may be the spec object itself or a whole manifest (`apiVersion`, `kind`, `spec`),
so what `lucid get -o json` prints can be sent back unchanged.
"""

# No `from __future__ import annotations`: FastAPI must see the real types of the
# dependencies that the route functions below close over.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import QueryParams

from lucid.api.body import bad_request, body_reader, parse_json
from lucid.api.openapi import json_body, model_ref
from lucid.errors import FieldError, ValidationFailed
from lucid.kinds import Kind
from lucid.manifests import parse_document, to_manifest
from lucid.resources import Resources
from lucid.store import COLLECTIONS

# Indexed fields that make no sense as equality filters (the policy type is implied by the
# path; timestamps never match a typed-in value).
_NOT_FILTERS = frozenset({"type", "lastHealthCheck", "lastUpdated"})
_MANIFEST_KEYS = frozenset({"apiVersion", "kind", "spec"})


def filter_fields(kind: Kind) -> dict[str, type]:
    """Query parameters a list of `kind` accepts, with the type each is converted to."""
    names = [n for n in COLLECTIONS[kind.collection].indexes if n not in _NOT_FILTERS]
    fields: dict[str, type] = {}
    for name in names:
        info = kind.model.model_fields.get(name)
        annotation = info.annotation if info is not None else None
        fields[name] = bool if annotation is bool else int if annotation is int else str
    return fields


def parse_filters(kind: Kind, params: QueryParams) -> dict[str, Any]:
    allowed = filter_fields(kind)
    where: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in params:
        values = params.getlist(name)
        if name not in allowed:
            expected = ", ".join(allowed) or "none"
            errors.append(
                FieldError(
                    kind.invalid_code,
                    name,
                    values[0],
                    f"is not a filter of {kind.plural}; expected one of: {expected}",
                )
            )
        elif len(values) > 1:
            errors.append(FieldError(kind.invalid_code, name, values, "is given more than once"))
        else:
            try:
                where[name] = _convert(values[0], allowed[name])
            except ValueError as exc:
                errors.append(FieldError(kind.invalid_code, name, values[0], str(exc)))
    if errors:
        failed = ValidationFailed(errors, subject="query")
        failed.http_status = 400
        raise failed
    return where


def _convert(raw: str, wanted: type) -> Any:
    if wanted is bool:
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise ValueError("must be true or false")
        return lowered == "true"
    if wanted is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be an integer") from None
    return raw


def parse_body(kind: Kind, raw: bytes) -> BaseModel:
    """The model in a request body: a bare spec object or a manifest of this kind."""
    data = parse_json(raw, code=kind.invalid_code)
    if isinstance(data, dict) and _MANIFEST_KEYS & data.keys():
        if data.get("kind") != kind.name:
            raise bad_request(
                kind.invalid_code,
                "kind",
                data.get("kind"),
                f"this endpoint takes {kind.name} manifests",
            )
        return parse_document(data, file="<request>", document=1).model
    return kind.parse(data)


def kind_router(kind: Kind, resources: Resources, guard: Callable[[Request], None]) -> APIRouter:
    router = APIRouter(prefix=f"/v1/{kind.plural}", tags=[kind.name])
    read_body = body_reader(kind.invalid_code)
    Body = Annotated[bytes, Depends(read_body)]
    writes: list[Any] = [Depends(guard)]
    body_doc = json_body(
        model_ref(kind.model.__name__),
        description=f"a {kind.name} (the spec object, or a whole manifest)",
    )
    filters = ", ".join(filter_fields(kind)) or "none"

    @router.get(
        "",
        summary=f"List {kind.plural}",
        description=f"Equality filters as query parameters: {filters}.",
    )
    def list_items(request: Request) -> dict[str, Any]:
        where = parse_filters(kind, request.query_params)
        return {"items": [to_manifest(kind, r) for r in resources.list(kind, where=where)]}

    @router.get("/{name}", summary=f"Read one {kind.name}")
    def get_item(name: str) -> dict[str, Any]:
        return to_manifest(kind, resources.get(kind, name))

    @router.post(
        "",
        summary=f"Create a {kind.name}",
        status_code=201,
        dependencies=writes,
        openapi_extra=body_doc,
    )
    def create_item(raw: Body) -> JSONResponse:
        record = resources.create(parse_body(kind, raw))
        return JSONResponse(
            to_manifest(kind, record),
            status_code=201,
            headers={"Location": f"/v1/{kind.plural}/{record.key}"},
        )

    @router.put(
        "/{name}",
        summary=f"Create or replace a {kind.name}",
        dependencies=writes,
        openapi_extra=body_doc,
    )
    def put_item(name: str, raw: Body) -> JSONResponse:
        model = parse_body(kind, raw)
        if kind.key_of(model) != name:
            raise bad_request(
                kind.invalid_code,
                kind.key_field,
                kind.key_of(model),
                f"must equal the name in the path ({name!r})",
            )
        (applied,) = resources.apply([model])
        record = resources.get(kind, name)
        status = 201 if applied.action == "created" else 200
        return JSONResponse(to_manifest(kind, record), status_code=status)

    @router.delete("/{name}", summary=f"Delete a {kind.name}", dependencies=writes)
    def delete_item(name: str) -> dict[str, Any]:
        resources.delete([(kind, name)])
        return {"items": [{"kind": kind.name, "name": name, "action": "deleted"}]}

    return router
