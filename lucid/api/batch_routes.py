"""`POST /v1/apply` and `POST /v1/delete`: many documents, one atomic store write.

`lucid apply -f dir/` sends every manifest it read in one request, so a directory either
lands whole or not at all; a half-applied mesh (a route to a service whose registration was
refused) is worse than none. Every document is validated before anything is written, and
every error is reported, each naming its document's position in the request.
"""

# No `from __future__ import annotations`: FastAPI must see the real types of the
# dependencies that the route functions below close over.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from lucid.api.body import bad_request, body_reader, parse_json
from lucid.api.openapi import json_body
from lucid.errors import ErrorCode, FieldError, ValidationFailed
from lucid.kinds import Kind, lookup
from lucid.manifests import parse_documents
from lucid.resources import Resources
from lucid.translators.notes import notes

# Errors about the request as a whole, rather than one kind's document.
_CODE = ErrorCode.POLICY_VALIDATION_FAILED

_APPLY_DOC = json_body(
    {
        "type": "object",
        "required": ["documents"],
        "additionalProperties": False,
        "properties": {
            "documents": {
                "type": "array",
                "items": {"type": "object"},
                "description": "manifests: {apiVersion: lucid.mesh/v1, kind, spec}",
            }
        },
    },
    description="manifests to create or replace, all or none",
)
_DELETE_DOC = json_body(
    {
        "type": "object",
        "required": ["items"],
        "additionalProperties": False,
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "name"],
                    "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
                },
            }
        },
    },
    description="(kind, name) pairs to delete, all or none",
)


def batch_router(resources: Resources, guard: Callable[[Request], None]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["batch"])
    Body = Annotated[bytes, Depends(body_reader(_CODE))]
    writes: list[Any] = [Depends(guard)]

    @router.post(
        "/apply",
        summary="Create or replace many manifests atomically",
        dependencies=writes,
        openapi_extra=_APPLY_DOC,
    )
    def apply(raw: Body) -> dict[str, Any]:
        documents = _list_field(parse_json(raw, code=_CODE), "documents")
        manifests = parse_documents(documents, file="<request>")
        applied = resources.apply([m.model for m in manifests])
        items: list[dict[str, Any]] = []
        for manifest, done in zip(manifests, applied, strict=True):
            item: dict[str, Any] = {"kind": done.kind, "name": done.name, "action": done.action}
            warnings = [
                {"path": f"spec.{n.path}", "message": n.message} for n in notes(manifest.model)
            ]
            if warnings:
                item["warnings"] = warnings
            items.append(item)
        return {"items": items}

    @router.post(
        "/delete",
        summary="Delete many resources atomically",
        dependencies=writes,
        openapi_extra=_DELETE_DOC,
    )
    def delete(raw: Body) -> dict[str, Any]:
        items = _list_field(parse_json(raw, code=_CODE), "items")
        pairs = _delete_pairs(items)
        resources.delete(pairs)
        return {"items": [{"kind": k.name, "name": name, "action": "deleted"} for k, name in pairs]}

    return router


def _list_field(data: Any, field: str) -> list[Any]:
    if not isinstance(data, dict):
        raise bad_request(_CODE, "", data, f"the body must be an object with {field!r}")
    extra = sorted(set(data) - {field})
    if extra:
        raise bad_request(_CODE, extra[0], data[extra[0]], "is not a known field")
    value = data.get(field)
    if not isinstance(value, list):
        raise bad_request(_CODE, field, value, "must be a list")
    return value


def _delete_pairs(items: list[Any]) -> list[tuple[Kind, str]]:
    """Validated, de-duplicated (kind, name) pairs; every bad item is reported."""
    pairs: list[tuple[Kind, str]] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        path = f"items.{index}"
        if not isinstance(item, dict) or set(item) != {"kind", "name"}:
            errors.append(FieldError(_CODE, path, item, "must be an object with kind and name"))
            continue
        kind = lookup(item["kind"]) if isinstance(item["kind"], str) else None
        if kind is None:
            errors.append(FieldError(_CODE, f"{path}.kind", item["kind"], "unknown kind"))
            continue
        name = item["name"]
        if not isinstance(name, str) or not name:
            errors.append(
                FieldError(kind.invalid_code, f"{path}.name", name, "must be a non-empty string")
            )
            continue
        if (kind, name) not in pairs:
            pairs.append((kind, name))
    if errors:
        failed = ValidationFailed(errors, subject="delete request")
        failed.http_status = 400
        raise failed
    return pairs
