"""The registry's events, as spec ServiceEvent documents for the `event_stream` collection.

Every lifecycle step of a registration is an event, written in the same atomic store
batch as the change it reports, so a subscriber never sees an event for a change that did
not happen (or miss one that did):

    service.registered      POST /v1/services accepted
    service.deregistered    DELETE /v1/services/{id}
    service.expired         its heartbeat lapsed past its ttl
    service.revived         an expired registration heartbeated again
    service.health-changed  active checks moved it between healthy/degraded/unhealthy/unknown

`source` is the serviceId the event is about; `tags` carry its serviceName, cluster and
plane so subscriptions can filter on them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from lucid.models import ServiceRegistration
from lucid.models.messaging import ServiceEvent
from lucid.store import Write

COLLECTION = "event_stream"
REGISTERED = "service.registered"
DEREGISTERED = "service.deregistered"
EXPIRED = "service.expired"
REVIVED = "service.revived"
HEALTH_CHANGED = "service.health-changed"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_write(
    event_type: str,
    registration: ServiceRegistration,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> Write:
    """A `create` of one validated ServiceEvent about `registration`."""
    event = ServiceEvent(
        eventId=str(uuid.uuid4()),
        eventType=event_type,
        source=registration.serviceId,
        timestamp=now,
        data={
            "serviceId": registration.serviceId,
            "serviceName": registration.serviceName,
            **({"instanceId": registration.instanceId} if registration.instanceId else {}),
            **(data or {}),
        },
        tags={
            "serviceName": registration.serviceName,
            "cluster": registration.cluster,
            "plane": registration.plane,
        },
    )
    document = event.model_dump(mode="json", exclude_none=True)
    document["timestamp"] = stamp(now)
    return Write("create", COLLECTION, event.eventId, document)
