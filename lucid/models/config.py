"""Spec section 6, configuration models: retry, timeout, security, monitoring, resources.

They appear inside sidecar configurations and as the typed parameters of policy rules.
Beyond the spec's ranges, a retry's initialDelay may not exceed its maxDelay, error kinds
are checked against the list the translators know how to map to Envoy, and a resource
request may not exceed its limit.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from lucid.models.common import SpecModel, rule_error

# Error kinds a retry can be triggered by; each maps to an Envoy retry_on condition.
RETRYABLE_ERRORS = (
    "5xx",
    "gateway-error",
    "timeout",
    "connection-error",
    "reset",
    "retriable-4xx",
    "refused-stream",
    # gRPC status codes, for grpc/grpcs services
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
)


def _known_errors(allowed: tuple[str, ...]) -> AfterValidator:
    def check(values: list[str]) -> list[str]:
        for value in values:
            if value not in allowed:
                raise PydanticCustomError(
                    "error_kind",
                    "unknown error kind {value!r}; expected any of {allowed}",
                    {"value": value, "allowed": ", ".join(allowed)},
                )
        return values

    return AfterValidator(check)


class RetryConfig(SpecModel):
    # Required by the spec, so its documented default (3) never applies.
    maxAttempts: Annotated[int, Field(ge=1, le=10)]
    initialDelay: Annotated[int, Field(ge=100, le=10000)] = 1000
    maxDelay: Annotated[int, Field(ge=1000, le=60000)] = 10000
    backoffMultiplier: Annotated[float, Field(ge=1.0, le=5.0)] = 2.0
    retryableErrors: Annotated[list[str], _known_errors(RETRYABLE_ERRORS)] = Field(
        default_factory=lambda: ["5xx", "timeout", "connection-error"]
    )

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryConfig:
        if self.initialDelay > self.maxDelay:
            raise rule_error(
                "initialDelay",
                f"initialDelay ({self.initialDelay} ms) must not exceed maxDelay "
                f"({self.maxDelay} ms)",
                self.initialDelay,
            )
        return self


class TimeoutConfig(SpecModel):
    connect: Annotated[int, Field(ge=100, le=30000)] = 5000
    request: Annotated[int, Field(ge=1000, le=300000)] = 30000
    response: Annotated[int, Field(ge=1000, le=300000)] = 30000
    idle: Annotated[int, Field(ge=1000, le=300000)] = 60000


class MTLSConfig(SpecModel):
    enabled: bool = True
    certAuthority: str | None = None
    clientCert: str | None = None
    clientKey: str | None = None

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> MTLSConfig:
        if (self.clientCert is None) != (self.clientKey is None):
            missing = "clientKey" if self.clientKey is None else "clientCert"
            raise rule_error(missing, "clientCert and clientKey must be given together", None)
        return self


class AuthenticationConfig(SpecModel):
    required: bool = True
    methods: list[Literal["jwt", "mtls", "api-key"]] | None = None


class AuthorizationConfig(SpecModel):
    enabled: bool = True
    policy: Literal["allow-all", "deny-all", "rbac"] = "rbac"


class SecurityConfig(SpecModel):
    mTLS: MTLSConfig | None = None
    authentication: AuthenticationConfig | None = None
    authorization: AuthorizationConfig | None = None

    @model_validator(mode="after")
    def _mtls_method_needs_mtls(self) -> SecurityConfig:
        methods = self.authentication.methods if self.authentication else None
        if methods and "mtls" in methods and self.mTLS is not None and not self.mTLS.enabled:
            raise rule_error(
                "mTLS.enabled",
                "authentication.methods includes 'mtls' but mTLS.enabled is false",
                False,
            )
        return self


class MetricsConfig(SpecModel):
    enabled: bool = True
    endpoint: str | None = None
    interval: Annotated[int, Field(ge=1, le=3600)] = 30


class TracingConfig(SpecModel):
    enabled: bool = True
    samplingRate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    endpoint: str | None = None


class LoggingConfig(SpecModel):
    enabled: bool = True
    level: Literal["debug", "info", "warn", "error"] = "info"
    format: Literal["json", "text"] = "json"


class MonitoringConfig(SpecModel):
    metrics: MetricsConfig | None = None
    tracing: TracingConfig | None = None
    logging: LoggingConfig | None = None


_CPU_RE = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")
_MEMORY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T|k)?$")
_MEMORY_UNITS = {
    "": 1,
    "k": 1000,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}

Cpu = Annotated[str, Field(pattern=_CPU_RE.pattern)]
Memory = Annotated[str, Field(pattern=_MEMORY_RE.pattern)]


def cpu_millicores(value: str) -> float:
    return float(value[:-1]) if value.endswith("m") else float(value) * 1000


def memory_bytes(value: str) -> float:
    number = re.match(r"^[0-9.]+", value)
    assert number is not None
    return float(number.group()) * _MEMORY_UNITS[value[number.end() :]]


class ResourceLimits(SpecModel):
    cpu: Cpu | None = None
    memory: Memory | None = None
    connections: Annotated[int, Field(ge=1)] = 1000


class ResourceRequests(SpecModel):
    cpu: Cpu | None = None
    memory: Memory | None = None
    connections: Annotated[int, Field(ge=1)] = 10


class ResourceConfig(SpecModel):
    limits: ResourceLimits | None = None
    requests: ResourceRequests | None = None

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourceConfig:
        if self.limits is None or self.requests is None:
            return self
        lim, req = self.limits, self.requests
        if req.connections > lim.connections:
            # Either side may be a default the user never wrote; say which.
            req_default = "" if "connections" in req.model_fields_set else ", the default"
            lim_default = "" if "connections" in lim.model_fields_set else ", the default"
            raise rule_error(
                "requests.connections",
                f"requests.connections ({req.connections}{req_default}) exceeds "
                f"limits.connections ({lim.connections}{lim_default})",
                req.connections,
            )
        if req.cpu and lim.cpu and cpu_millicores(req.cpu) > cpu_millicores(lim.cpu):
            raise rule_error(
                "requests.cpu", f"requests.cpu ({req.cpu}) exceeds limits.cpu ({lim.cpu})", req.cpu
            )
        if req.memory and lim.memory and memory_bytes(req.memory) > memory_bytes(lim.memory):
            raise rule_error(
                "requests.memory",
                f"requests.memory ({req.memory}) exceeds limits.memory ({lim.memory})",
                req.memory,
            )
        return self
