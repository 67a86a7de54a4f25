"""The kinds an operator writes (in YAML or over REST) and how each is stored.

One table ties each kind to its model, its store collection, the field that names it, and
the LUCID codes for its errors. Stored documents are the model's JSON plus a few fields the
control plane owns (a registration's status, a policy's type and timestamps); those are
stripped again when a document is read back as a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from lucid.errors import ErrorCode
from lucid.models import (
    EventSubscription,
    SecurityPolicy,
    ServiceRegistration,
    SidecarConfiguration,
    TrafficPolicy,
)
from lucid.models.validation import CodeFor, constant, sidecar_code, validate


@dataclass(frozen=True)
class Kind:
    name: str  # as written in YAML `kind:`
    plural: str  # REST path segment and CLI name
    aliases: tuple[str, ...]  # other names the CLI accepts
    model: type[BaseModel]
    collection: str
    key_field: str
    code_for: CodeFor
    invalid_code: ErrorCode
    not_found_code: ErrorCode
    conflict_code: ErrorCode
    # Fields the control plane adds to stored documents (never accepted from users).
    owned_fields: tuple[str, ...] = ()
    # `type` of documents in service_mesh_policies, which holds both policy kinds.
    policy_type: str | None = None

    def parse(self, data: Any, *, subject: str | None = None) -> BaseModel:
        return validate(self.model, data, code_for=self.code_for, subject=subject or self.name)

    def key_of(self, model: BaseModel) -> str:
        return str(getattr(model, self.key_field))

    def dump(self, model: BaseModel) -> dict[str, Any]:
        """The model as JSON-ready data: what users wrote, with defaults filled in."""
        return model.model_dump(mode="json")

    def to_document(
        self, model: BaseModel, *, now: datetime, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        doc = self.dump(model)
        stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if self.collection == "service_registry":
            doc["status"] = (existing or {}).get("status", "unknown")
            doc["registeredAt"] = (existing or {}).get("registeredAt", stamp)
            doc["lastHealthCheck"] = (existing or {}).get("lastHealthCheck")
            doc["lastHeartbeat"] = stamp
            for kept in ("health", "lease"):  # the registry's: an operator's apply keeps them
                if existing is not None and kept in existing:
                    doc[kept] = existing[kept]
        elif self.policy_type is not None:
            doc["type"] = self.policy_type
            doc["createdAt"] = (existing or {}).get("createdAt", stamp)
            doc["updatedAt"] = stamp
        return doc

    def from_document(self, doc: dict[str, Any]) -> BaseModel:
        data = {k: v for k, v in doc.items() if k not in self.owned_fields}
        return self.model.model_validate(data)


KINDS: tuple[Kind, ...] = (
    Kind(
        name="ServiceRegistration",
        plural="services",
        aliases=("service", "svc", "registration", "registrations", "serviceregistration"),
        model=ServiceRegistration,
        collection="service_registry",
        key_field="serviceId",
        code_for=constant(ErrorCode.INVALID_SERVICE_CONFIGURATION),
        invalid_code=ErrorCode.INVALID_SERVICE_CONFIGURATION,
        not_found_code=ErrorCode.SERVICE_NOT_FOUND,
        conflict_code=ErrorCode.SERVICE_ALREADY_REGISTERED,
        owned_fields=(
            "status",
            "registeredAt",
            "lastHealthCheck",
            "lastHeartbeat",
            "health",
            "lease",
        ),
    ),
    Kind(
        name="SidecarConfiguration",
        plural="sidecars",
        aliases=("sidecar", "sidecarconfiguration", "sidecarconfigurations", "sc"),
        model=SidecarConfiguration,
        collection="sidecar_configurations",
        key_field="serviceId",
        code_for=sidecar_code,
        invalid_code=ErrorCode.SIDECAR_CONFIGURATION_FAILED,
        not_found_code=ErrorCode.SIDECAR_CONFIGURATION_FAILED,
        conflict_code=ErrorCode.SIDECAR_CONFIGURATION_FAILED,
    ),
    Kind(
        name="TrafficPolicy",
        plural="trafficpolicies",
        aliases=("trafficpolicy", "traffic-policy", "traffic-policies", "tp"),
        model=TrafficPolicy,
        collection="service_mesh_policies",
        key_field="name",
        code_for=constant(ErrorCode.TRAFFIC_POLICY_CREATION_FAILED),
        invalid_code=ErrorCode.TRAFFIC_POLICY_CREATION_FAILED,
        not_found_code=ErrorCode.TRAFFIC_POLICY_CREATION_FAILED,
        conflict_code=ErrorCode.TRAFFIC_POLICY_CREATION_FAILED,
        owned_fields=("type", "createdAt", "updatedAt", "status"),
        policy_type="traffic",
    ),
    Kind(
        name="SecurityPolicy",
        plural="securitypolicies",
        aliases=("securitypolicy", "security-policy", "security-policies", "sp"),
        model=SecurityPolicy,
        collection="service_mesh_policies",
        key_field="name",
        code_for=constant(ErrorCode.POLICY_VALIDATION_FAILED),
        invalid_code=ErrorCode.POLICY_VALIDATION_FAILED,
        not_found_code=ErrorCode.POLICY_VALIDATION_FAILED,
        conflict_code=ErrorCode.POLICY_VALIDATION_FAILED,
        owned_fields=("type", "createdAt", "updatedAt", "status"),
        policy_type="security",
    ),
    Kind(
        name="EventSubscription",
        plural="subscriptions",
        aliases=("subscription", "eventsubscription", "eventsubscriptions", "sub"),
        model=EventSubscription,
        collection="event_subscriptions",
        key_field="subscriberId",
        code_for=constant(ErrorCode.EVENT_SUBSCRIPTION_FAILED),
        invalid_code=ErrorCode.EVENT_SUBSCRIPTION_FAILED,
        not_found_code=ErrorCode.EVENT_SUBSCRIPTION_FAILED,
        conflict_code=ErrorCode.EVENT_SUBSCRIPTION_FAILED,
    ),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}


def lookup(name: str) -> Kind | None:
    """A kind by its YAML name, plural or an alias (case-insensitive)."""
    wanted = name.lower()
    for kind in KINDS:
        if wanted in (kind.name.lower(), kind.plural, *kind.aliases):
            return kind
    return None
