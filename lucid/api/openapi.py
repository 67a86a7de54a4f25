"""The spec models in `/openapi.json`, although routes read their bodies as raw JSON.

Raw bodies keep validation (and its LUCID codes) in the models, but FastAPI then knows
nothing about them. This module documents each write route's body with the model's JSON
Schema, and adds those schemas to `components`, so generated clients and the interactive
docs still show what to send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from lucid.kinds import KINDS

_REF = "#/components/schemas/{model}"


def json_body(schema: dict[str, Any], *, description: str) -> dict[str, Any]:
    """`openapi_extra` for a route whose body is `schema`."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def model_ref(model_name: str) -> dict[str, Any]:
    return {"$ref": _REF.format(model=model_name)}


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with one that also carries every kind's model schema."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _, defs = models_json_schema(
                [(kind.model, "validation") for kind in KINDS], ref_template=_REF
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in defs.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            cached.update(document)
        return cached

    setter: Callable[[], dict[str, Any]] = openapi
    app.openapi = setter  # type: ignore[method-assign]
