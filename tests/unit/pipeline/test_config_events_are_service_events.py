"""ACK and NACK events are valid spec ServiceEvents, tagged with the proxy they are about."""

from __future__ import annotations

from datetime import UTC, datetime

from lucid.models.messaging import ServiceEvent
from lucid.pipeline.events import MAX_REJECTIONS, Outcome, config_event, rejected_status
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


def rejection(node_id: str, error: str) -> Outcome:
    node = Node(id=node_id, service="web")
    return Outcome("config.rejected", node, "sotw", ROUTE, "v2", error, datetime.now(UTC))


def test_a_rejection_is_written_into_the_status_of_the_policy_it_came_from() -> None:
    stored = {"name": "canary", "type": "traffic", "rules": [{"action": "allow"}]}

    write = rejected_status(
        "service_mesh_policies", "canary", stored, [rejection("web-01", "invalid regex")]
    )

    assert (write.op, write.collection, write.key) == ("put", "service_mesh_policies", "canary")
    assert write.document["rules"] == stored["rules"]
    status = write.document["status"]
    assert status["config"] == "rejected"
    assert [(r["node"], r["type"], r["version"], r["error"]) for r in status["rejections"]] == [
        ("web-01", "RDS", "v2", "invalid regex")
    ]


def test_rejections_accumulate_newest_first_and_stay_bounded() -> None:
    document: dict[str, object] = {"name": "canary"}
    for n in range(MAX_REJECTIONS + 3):
        document = rejected_status("c", "canary", document, [rejection(f"web-{n}", "no")]).document

    nodes = [r["node"] for r in document["status"]["rejections"]]  # type: ignore[index]
    assert len(nodes) == MAX_REJECTIONS
    assert nodes[0] == f"web-{MAX_REJECTIONS + 2}"
