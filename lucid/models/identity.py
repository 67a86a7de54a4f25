"""Spec section 1, service identity: who a service instance is and where it listens.

An endpoint's TLS block only makes sense for https/grpcs; a client certificate needs its
key. Both are checked here so a translator never has to guess.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from lucid.models.common import (
    NAME_PATTERN,
    Cluster,
    Hostname,
    Plane,
    SemVer,
    ServiceName,
    SpecModel,
    UrlPath,
    Uuid,
    rule_error,
)

Protocol = Literal["http", "https", "grpc", "grpcs"]
InstanceId = Annotated[str, Field(pattern=NAME_PATTERN, max_length=253)]


class ServiceIdentifier(SpecModel):
    serviceId: Uuid
    serviceName: ServiceName
    cluster: Cluster
    plane: Plane
    version: SemVer | None = None
    instanceId: InstanceId | None = None


class EndpointTLS(SpecModel):
    enabled: bool | None = None
    certAuthority: str | None = None
    clientCert: str | None = None
    clientKey: str | None = None

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> EndpointTLS:
        if (self.clientCert is None) != (self.clientKey is None):
            missing = "clientKey" if self.clientKey is None else "clientCert"
            raise rule_error(missing, "clientCert and clientKey must be given together", None)
        return self


class ServiceEndpoint(SpecModel):
    host: Hostname
    port: Annotated[int, Field(ge=1, le=65535)]
    protocol: Protocol
    path: UrlPath | None = None
    tls: EndpointTLS | None = None

    @model_validator(mode="after")
    def _tls_needs_tls_protocol(self) -> ServiceEndpoint:
        if self.tls is not None and self.tls.enabled and self.protocol in ("http", "grpc"):
            raise rule_error(
                "tls.enabled",
                f"tls is enabled but protocol is {self.protocol!r}; use "
                f"{'https' if self.protocol == 'http' else 'grpcs'}",
                True,
            )
        return self

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("https", "grpcs")
