"""Spec section 5, inter-service communication: messages, their status, events, subscriptions.

The spec's InterServiceMessage refers to a `RetryPolicy` schema it never defines; the
RetryConfig of section 6 is used in its place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from lucid.models.common import (
    UUID_RE,
    DateTime,
    OpenSpecModel,
    SpecModel,
    Uuid,
    _service_name,
)
from lucid.models.config import RetryConfig


def _service_ref(value: str) -> str:
    """A service identifier: a serviceId (UUID) or a service name."""
    if UUID_RE.fullmatch(value):
        return value
    try:
        return _service_name(value)
    except PydanticCustomError as exc:
        raise PydanticCustomError(
            "service_ref", "must be a serviceId (UUID) or a service name (3-50 of a-z, 0-9, '-')"
        ) from exc


ServiceRef = Annotated[str, AfterValidator(_service_ref)]
EventType = Annotated[str, Field(pattern=r"^[a-z0-9.-]+$", max_length=253)]
EventTypePattern = Annotated[str, Field(pattern=r"^[a-z0-9.*-]+$", max_length=253)]


class InterServiceMessage(SpecModel):
    messageId: Uuid
    source: ServiceRef
    destination: ServiceRef
    payload: dict[str, Any]
    headers: dict[str, str] | None = None
    priority: Literal["low", "normal", "high", "critical"] = "normal"
    ttl: Annotated[int, Field(ge=1, le=86400)] = 3600
    retryPolicy: RetryConfig | None = None
    correlationId: Uuid | None = None
    timestamp: DateTime | None = None


class MessageStatus(SpecModel):
    messageId: Uuid
    status: Literal["queued", "processing", "delivered", "failed", "expired"]
    timestamp: DateTime
    attempts: Annotated[int, Field(ge=0)] | None = None
    lastAttempt: DateTime | None = None
    error: str | None = None
    deliveredTo: str | None = None
    processingTime: Annotated[float, Field(ge=0)] | None = None


class ServiceEvent(SpecModel):
    eventId: Uuid
    eventType: EventType
    source: Annotated[str, Field(min_length=1, max_length=253)]
    timestamp: DateTime
    data: dict[str, Any]
    version: str = "1.0"
    correlationId: Uuid | None = None
    tags: dict[str, str] | None = None


class SubscriptionFilters(OpenSpecModel):
    source: list[str] | None = None
    tags: dict[str, str] | None = None
    data: dict[str, Any] | None = None


class EventSubscription(SpecModel):
    subscriberId: Annotated[str, Field(pattern=r"^[a-z0-9-]+$", min_length=3, max_length=253)]
    eventTypes: Annotated[list[EventTypePattern], Field(min_length=1)]
    filters: SubscriptionFilters | None = None
    deliveryMode: Literal["push", "pull"] = "push"
    batchSize: Annotated[int, Field(ge=1, le=1000)] = 1
    maxRetries: Annotated[int, Field(ge=0, le=10)] = 3
    retryDelay: Annotated[int, Field(ge=1000, le=300000)] = 5000
