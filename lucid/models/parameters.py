"""Typed `parameters` for each rule action, so a typo in a parameter is an error.

The spec leaves rule parameters open (`additionalProperties: true`); a control plane that
accepted anything there would silently ignore `maxAtempts: 5`. Each action gets a closed
schema instead:

| action          | parameters                                              |
|-----------------|---------------------------------------------------------|
| allow, deny     | none                                                    |
| redirect        | target (URL or path), statusCode                         |
| mirror          | destination (a service), percentage                      |
| weighted-split  | destinations: [{destination, weight}] summing to 100     |
| rate-limit      | requests per unit (second/minute/hour), burst            |
| circuit-break   | CircuitBreakerConfig plus connection/request thresholds  |
| retry           | RetryConfig                                              |
| timeout         | TimeoutConfig                                            |
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from lucid.models.common import Destination, SpecModel, rule_error

CIRCUIT_ERROR_TYPES = ("5xx", "gateway-error", "timeout", "connection-error")
_REDIRECT_RE = re.compile(r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)?(/[^\s]*)?$")


def _redirect_target(value: str) -> str:
    if not value or not _REDIRECT_RE.fullmatch(value):
        raise PydanticCustomError(
            "redirect_target",
            "must be an absolute http(s) URL such as https://host/path, or a path such as /v2",
        )
    return value


def _circuit_error_types(values: list[str]) -> list[str]:
    for value in values:
        if value not in CIRCUIT_ERROR_TYPES:
            raise PydanticCustomError(
                "error_kind",
                "unknown error type {value!r}; expected any of {allowed}",
                {"value": value, "allowed": ", ".join(CIRCUIT_ERROR_TYPES)},
            )
    return values


class NoParameters(SpecModel):
    """allow and deny take no parameters."""


class RedirectParameters(SpecModel):
    target: Annotated[str, AfterValidator(_redirect_target)]
    statusCode: Literal[301, 302, 303, 307, 308] = 302


class MirrorParameters(SpecModel):
    destination: Destination
    percentage: Annotated[float, Field(ge=0.0, le=100.0)] = 100.0


class SplitDestination(SpecModel):
    destination: Destination
    weight: Annotated[int, Field(ge=0, le=100)]


class WeightedSplitParameters(SpecModel):
    destinations: Annotated[list[SplitDestination], Field(min_length=1)]

    @model_validator(mode="after")
    def _weights_sum_to_100(self) -> WeightedSplitParameters:
        names = [d.destination for d in self.destinations]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise rule_error(
                    f"destinations.{index}.destination", f"{name!r} appears twice", name
                )
        total = sum(d.weight for d in self.destinations)
        if total != 100:
            raise rule_error("destinations", f"weights must sum to 100, not {total}", total)
        return self


class RateLimitParameters(SpecModel):
    requests: Annotated[int, Field(ge=1, le=1_000_000)]
    unit: Literal["second", "minute", "hour"] = "second"
    # Bucket size: how many requests may arrive at once; defaults to `requests`.
    burst: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


class CircuitBreakerConfig(SpecModel):
    # failureThreshold and recoveryTimeout are required by the spec; their defaults never apply.
    failureThreshold: Annotated[int, Field(ge=1, le=100)]
    recoveryTimeout: Annotated[int, Field(ge=1, le=3600)]
    halfOpenMaxCalls: Annotated[int, Field(ge=1, le=100)] = 3
    successThreshold: Annotated[int, Field(ge=1, le=100)] = 3
    timeout: Annotated[int, Field(ge=100, le=30000)] = 5000
    errorTypes: Annotated[list[str], AfterValidator(_circuit_error_types)] = Field(
        default_factory=lambda: ["5xx", "timeout", "connection-error"]
    )


class CircuitBreakParameters(CircuitBreakerConfig):
    """CircuitBreakerConfig plus Envoy's connection-pool thresholds (all optional)."""

    maxConnections: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    maxPendingRequests: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    maxRequests: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    maxRetries: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
