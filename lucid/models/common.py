"""Shared building blocks of the spec models: the base class, formats and selectors.

The spec is JSON Schema; these are its formats as pydantic types. Models are strict (a
port written as the string "8080" is an error, not a silent conversion) and closed
(unknown fields are errors) unless the spec says `additionalProperties: true`.

Cross-field rules raise `rule_error(...)`: a PydanticCustomError that carries the path of
the offending field relative to the model, so `lucid.models.validation` can report
`routing.retry.initialDelay` rather than just `routing.retry`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Hashable
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"^[a-z0-9-]+$"
SEMVER_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+(-[a-zA-Z0-9-]+)?$"
PATH_PATTERN = r"^/[a-zA-Z0-9/_-]*$"
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_HOST_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_HEADER_NAME_RE = re.compile(r"^:?[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_GLOB_RE = re.compile(r"^[a-z0-9*?-]+$")

Cluster = Literal[
    "api-gateway",
    "blockchain-core",
    "session-management",
    "rdp-services",
    "node-management",
    "admin-interface",
    "tron-payment",
    "storage-database",
    "authentication",
]
Plane = Literal["ops", "chain", "wallet"]
HttpMethod = Literal["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"]

CLUSTERS: tuple[str, ...] = get_args(Cluster)
PLANES: tuple[str, ...] = get_args(Plane)
HTTP_METHODS: tuple[str, ...] = get_args(HttpMethod)


class _Model(BaseModel):
    @model_serializer(mode="wrap")
    def _omit_absent_optionals(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave out optional fields that were not given, instead of writing `null`.

        Only declared fields: a `null` inside free-form data (a payload, extra metadata) is
        the user's and is kept, which `exclude_none` would not do.
        """
        data = handler(self)
        if isinstance(data, dict):
            for name in type(self).model_fields:
                if name in data and data[name] is None:
                    del data[name]
        return data


class SpecModel(_Model):
    """Closed, strict model: the default for every spec object."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OpenSpecModel(_Model):
    """A spec object with `additionalProperties: true`: known fields typed, others kept."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


_PLAIN = frozenset({str, int})


def content_key(value: object) -> Hashable:
    """A hashable stand-in for a model's content: equal keys, equal models, including
    which optional fields were written (translators read `model_fields_set`). Cheaper
    than `model_dump_json` for keying caches, and exact where JSON would not be (a field
    written with its default value)."""
    if isinstance(value, BaseModel):
        extra = value.__pydantic_extra__
        return (
            type(value),
            tuple(
                v if v is None or type(v) in _PLAIN else content_key(v)
                for v in value.__dict__.values()
            ),
            frozenset(value.model_fields_set),
            content_key(extra) if extra else None,
        )
    if isinstance(value, list | tuple):
        return tuple(content_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, content_key(v)) for k, v in value.items()))
    if isinstance(value, bool | float):
        return type(value), value  # True == 1 == 1.0 in Python, not in a policy
    return value


def rule_error(field: str, rule: str, value: Any) -> PydanticCustomError:
    """A broken cross-field rule, located at `field` (dotted, relative to the model)."""
    return PydanticCustomError("lucid_rule", rule, {"field": field, "value": value})


def _uuid(value: str) -> str:
    if not UUID_RE.fullmatch(value):
        raise PydanticCustomError(
            "uuid_format", "must be a UUID such as 550e8400-e29b-41d4-a716-446655440000"
        )
    return value


def _date_time_input(value: Any) -> Any:
    """Text (or what YAML parsed from it), never a number: the spec's date-times are strings."""
    if not isinstance(value, (str, datetime)):
        raise PydanticCustomError(
            "date_time_type", "must be a date-time with a time zone, such as 2025-01-10T12:00:00Z"
        )
    return value


def _hostname(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_HOST_LABEL_RE.fullmatch(label) for label in labels):
        raise PydanticCustomError("hostname_format", "must be a valid hostname or IP address")
    if labels[-1].isdigit():
        raise PydanticCustomError("hostname_format", "must be a valid hostname or IP address")
    return value


def _header_names(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not _HEADER_NAME_RE.fullmatch(name):
            raise PydanticCustomError(
                "header_name",
                "header name {name!r} is not a valid HTTP header name",
                {"name": name},
            )
    return value


def _path_match(value: str) -> str:
    """A path to match: `/exact`, `/prefix/*` (prefix), or `regex:<RE2 expression>`."""
    if value.startswith("regex:"):
        try:
            re.compile(value[len("regex:") :])
        except re.error as exc:
            raise PydanticCustomError(
                "path_regex", "invalid regular expression: {error}", {"error": str(exc)}
            ) from exc
        return value
    if not value.startswith("/"):
        raise PydanticCustomError(
            "path_match", "must start with '/' (exact or '/prefix/*') or be 'regex:<expression>'"
        )
    if "*" in value[:-1] or any(c.isspace() for c in value):
        raise PydanticCustomError("path_match", "'*' is allowed only at the end of a path")
    return value


def _service_selector(value: str) -> str:
    """A service selector: a name, a glob (`blockchain-*`, `*`), `cluster:X` or `plane:X`."""
    if value.startswith("cluster:"):
        if value[len("cluster:") :] not in CLUSTERS:
            raise PydanticCustomError(
                "selector",
                "unknown cluster in selector; expected one of {clusters}",
                {"clusters": ", ".join(CLUSTERS)},
            )
        return value
    if value.startswith("plane:"):
        if value[len("plane:") :] not in PLANES:
            raise PydanticCustomError(
                "selector",
                "unknown plane in selector; expected one of {planes}",
                {"planes": ", ".join(PLANES)},
            )
        return value
    if "*" in value or "?" in value:
        if not _GLOB_RE.fullmatch(value):
            raise PydanticCustomError(
                "selector", "a glob selector may use only a-z, 0-9, '-', '*', '?'"
            )
        return value
    return _service_name(value)


def _service_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value) or not 3 <= len(value) <= 50:
        raise PydanticCustomError(
            "service_name",
            "must be a service name: 3-50 characters of a-z, 0-9 and '-'",
        )
    return value


Uuid = Annotated[str, AfterValidator(_uuid)]
Hostname = Annotated[str, AfterValidator(_hostname)]
DateTime = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_date_time_input)]
ServiceName = Annotated[str, Field(pattern=NAME_PATTERN, min_length=3, max_length=50)]
SemVer = Annotated[str, Field(pattern=SEMVER_PATTERN)]
Identifier = Annotated[str, Field(pattern=NAME_PATTERN, min_length=3, max_length=50)]
UrlPath = Annotated[str, Field(pattern=PATH_PATTERN)]
Headers = Annotated[dict[str, str], AfterValidator(_header_names)]
PathMatch = Annotated[str, AfterValidator(_path_match)]
Selector = Annotated[str, AfterValidator(_service_selector)]
Destination = Annotated[str, AfterValidator(_service_name)]
Priority = Annotated[int, Field(ge=1, le=1000)]
Weight = Annotated[int, Field(ge=0, le=100)]
