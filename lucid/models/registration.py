"""Spec section 2, service registration: an instance, its health check and its health.

A health check must time out before the next one is due (`timeout < interval`), checks
HTTP or gRPC but not both, and sends a body only with a method that carries one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from lucid.models.common import (
    Cluster,
    DateTime,
    Headers,
    OpenSpecModel,
    Plane,
    SemVer,
    ServiceName,
    SpecModel,
    UrlPath,
    Uuid,
    rule_error,
)
from lucid.models.identity import InstanceId, ServiceEndpoint

HttpStatus = Annotated[int, Field(ge=100, le=599)]


class HttpCheck(SpecModel):
    method: Literal["GET", "POST", "HEAD"] = "GET"
    headers: Headers | None = None
    body: str | None = None
    expectedStatus: Annotated[list[HttpStatus], Field(min_length=1)] = Field(
        default_factory=lambda: [200]
    )

    @model_validator(mode="after")
    def _body_needs_post(self) -> HttpCheck:
        if self.body is not None and self.method != "POST":
            raise rule_error(
                "body", f"a body can only be sent with POST, not {self.method}", self.body
            )
        return self


class GrpcCheck(SpecModel):
    service: str | None = None
    method: str | None = None
    timeout: Annotated[int, Field(ge=1, le=60)] = 5


class HealthCheckConfig(SpecModel):
    # interval and timeout are required by the spec, so their defaults never apply.
    endpoint: UrlPath
    interval: Annotated[int, Field(ge=5, le=300)]
    timeout: Annotated[int, Field(ge=1, le=60)]
    retries: Annotated[int, Field(ge=1, le=10)] = 3
    successThreshold: Annotated[int, Field(ge=1, le=10)] = 1
    failureThreshold: Annotated[int, Field(ge=1, le=10)] = 3
    httpCheck: HttpCheck | None = None
    grpcCheck: GrpcCheck | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HealthCheckConfig:
        if self.timeout >= self.interval:
            raise rule_error(
                "timeout",
                f"timeout ({self.timeout} s) must be shorter than interval ({self.interval} s)",
                self.timeout,
            )
        if self.httpCheck is not None and self.grpcCheck is not None:
            raise rule_error("grpcCheck", "give httpCheck or grpcCheck, not both", None)
        if self.grpcCheck is not None and self.grpcCheck.timeout > self.timeout:
            # Say so when the offending value is the default, which the user never wrote.
            default = "" if "timeout" in self.grpcCheck.model_fields_set else ", the default"
            raise rule_error(
                "grpcCheck.timeout",
                f"grpcCheck.timeout ({self.grpcCheck.timeout} s{default}) exceeds timeout "
                f"({self.timeout} s)",
                self.grpcCheck.timeout,
            )
        return self


class RegistrationMetadata(OpenSpecModel):
    description: Annotated[str, Field(max_length=500)] | None = None
    tags: list[str] | None = None
    capabilities: list[str] | None = None
    dependencies: list[str] | None = None


class ServiceRegistration(SpecModel):
    serviceId: Uuid
    serviceName: ServiceName
    cluster: Cluster
    plane: Plane
    endpoint: ServiceEndpoint
    version: SemVer
    instanceId: InstanceId | None = None
    healthCheck: HealthCheckConfig
    metadata: RegistrationMetadata | None = None
    registrationTime: DateTime | None = None
    ttl: Annotated[int, Field(ge=30, le=3600)] = 300


class HealthStatus(SpecModel):
    status: Literal["healthy", "unhealthy", "unknown", "degraded"]
    timestamp: DateTime
    lastCheck: DateTime | None = None
    consecutiveFailures: Annotated[int, Field(ge=0)] | None = None
    consecutiveSuccesses: Annotated[int, Field(ge=0)] | None = None
    responseTime: Annotated[float, Field(ge=0)] | None = None
    error: str | None = None
    details: dict[str, Any] | None = None
