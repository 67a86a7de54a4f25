"""ACK and NACK events are valid spec ServiceEvents, tagged with the proxy they are about."""

from __future__ import annotations

from datetime import UTC, datetime

from lucid.models.messaging import ServiceEvent
from lucid.pipeline.events import Outcome, config_event
from lucid.translators.node import Node
from lucid.xds.resources import ROUTE


def test_a_rejection_is_a_valid_service_event_with_the_error() -> None:
    node = Node(id="web-01", service="web", service_id=None, plane="ops", cluster="api-gateway")
    outcome = Outcome("config.rejected", node, "delta", ROUTE, "v1", "bad regex", datetime.now(UTC))
    write = config_event(outcome)
    event = ServiceEvent.model_validate(write.document)
    assert (write.collection, write.key) == ("event_stream", event.eventId)
    assert event.eventType == "config.rejected" and event.source == "web"
    assert event.data["type"] == "RDS" and event.data["error"] == "bad regex"
    assert event.tags == {
        "nodeId": "web-01",
        "serviceName": "web",
        "plane": "ops",
        "cluster": "api-gateway",
    }
