"""Messages carry a UUID, a source and destination service, an open payload, a priority
and a ttl of 1 to 86400 seconds; statuses, events and subscriptions have their own enums,
patterns and ranges (spec section 5 and the Message Validation rules).

Messages, statuses and events are validated with LUCID_ERR_1301; EventSubscription is a
kind and reports LUCID_ERR_1302.
"""

from __future__ import annotations

import pytest

from tests.builders import (
    CORRELATION_ID,
    SERVICE_ID,
    event,
    message,
    message_status,
    subscription,
    with_field,
    without_field,
)
from tests.unit.models.checks import (
    parse_event,
    parse_message,
    parse_message_status,
    parse_subscription,
    rejected,
)

MESSAGE_DELIVERY_FAILED = "LUCID_ERR_1301"
EVENT_SUBSCRIPTION_FAILED = "LUCID_ERR_1302"


# InterServiceMessage ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["messageId", "source", "destination", "payload"])
def test_a_message_without_a_required_field_is_rejected(field):
    rejected(
        parse_message,
        without_field(message(), field),
        code=MESSAGE_DELIVERY_FAILED,
        path=field,
        value=None,
    )


INVALID_MESSAGE_FIELDS = [
    pytest.param("messageId", "msg-42", id="messageId that is not a uuid"),
    pytest.param("messageId", "6ba7b810-9dad-11d1-80b4", id="messageId cut short"),
    pytest.param("messageId", 42, id="messageId given as a number"),
    pytest.param("source", "API Gateway", id="source with a space"),
    pytest.param("source", "api-*", id="source that is a glob"),
    pytest.param("source", "", id="empty source"),
    pytest.param("destination", "blockchain_core", id="destination with an underscore"),
    pytest.param("destination", "plane:chain", id="destination that is a plane"),
    pytest.param("payload", "anchor session", id="payload that is not an object"),
    pytest.param("payload", ["anchor"], id="payload that is a list"),
    pytest.param("headers", "json", id="headers that are not an object"),
    pytest.param("headers.x-retry", 1, id="a header value given as a number"),
    pytest.param("priority", "urgent", id="priority urgent"),
    pytest.param("priority", "HIGH", id="priority in uppercase"),
    pytest.param("priority", 1, id="priority given as a number"),
    pytest.param("ttl", 0, id="ttl 0"),
    pytest.param("ttl", 86401, id="ttl 86401"),
    pytest.param("ttl", "3600", id="ttl given as a string"),
    pytest.param("retryPolicy", 3, id="retryPolicy that is not an object"),
    pytest.param("retryPolicy.maxAttempts", 11, id="retryPolicy maxAttempts 11"),
    pytest.param("retryPolicy.backoffMultiplier", 0.9, id="retryPolicy backoffMultiplier 0.9"),
    pytest.param("retryPolicy.maxAtempts", 3, id="a typo in retryPolicy"),
    pytest.param("correlationId", "req-42", id="correlationId that is not a uuid"),
    pytest.param("timestamp", "now", id="timestamp that is not a date"),
    pytest.param("timestamp", "2025-01-10T12:00:00", id="timestamp without a zone"),
    pytest.param("status", "queued", id="status, which lives in MessageStatus"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_MESSAGE_FIELDS)
def test_an_invalid_message_field_is_rejected_with_its_path(path, value):
    document = message(retryPolicy={"maxAttempts": 3}, headers={"content-type": "json"})

    rejected(
        parse_message,
        with_field(document, path, value),
        code=MESSAGE_DELIVERY_FAILED,
        path=path,
        value=value,
    )


def test_a_retry_policy_whose_initial_delay_exceeds_its_max_delay_is_rejected():
    document = message(retryPolicy={"maxAttempts": 3, "initialDelay": 5000, "maxDelay": 2000})

    rejected(
        parse_message,
        document,
        code=MESSAGE_DELIVERY_FAILED,
        path="retryPolicy.initialDelay",
        value=5000,
    )


@pytest.mark.parametrize("ttl", [1, 86400])
def test_a_message_ttl_at_either_end_of_its_range_is_accepted(ttl):
    assert parse_message(message(ttl=ttl)).ttl == ttl


@pytest.mark.parametrize("priority", ["low", "normal", "high", "critical"])
def test_every_message_priority_of_the_spec_is_accepted(priority):
    assert parse_message(message(priority=priority)).priority == priority


@pytest.mark.parametrize("reference", [SERVICE_ID, "tron-payment-service"])
def test_a_message_names_services_by_id_or_name(reference):
    assert parse_message(message(destination=reference)).destination == reference


def test_a_message_defaults_to_normal_priority_and_an_hour_to_live():
    model = parse_message(message())

    assert (model.priority, model.ttl) == ("normal", 3600)


def test_a_message_payload_is_open():
    payload = {"sessionId": "sess-42", "chunks": [1, 2, 3], "meta": {"codec": "h264"}}

    assert parse_message(message(payload=payload)).payload == payload


def test_a_full_message_is_accepted():
    document = message(
        headers={"content-type": "application/json"},
        priority="critical",
        ttl=60,
        retryPolicy={"maxAttempts": 5, "initialDelay": 200, "maxDelay": 5000},
        correlationId=CORRELATION_ID,
        timestamp="2025-01-10T12:00:00Z",
    )

    assert parse_message(document).retryPolicy.maxAttempts == 5


# MessageStatus ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["messageId", "status", "timestamp"])
def test_a_message_status_without_a_required_field_is_rejected(field):
    rejected(
        parse_message_status,
        without_field(message_status(), field),
        code=MESSAGE_DELIVERY_FAILED,
        path=field,
        value=None,
    )


INVALID_STATUS_FIELDS = [
    pytest.param("messageId", "msg-42", id="messageId that is not a uuid"),
    pytest.param("status", "sent", id="status sent"),
    pytest.param("status", "Delivered", id="status in uppercase"),
    pytest.param("timestamp", "2025-01-10", id="timestamp without a time"),
    pytest.param("attempts", -1, id="attempts -1"),
    pytest.param("attempts", "1", id="attempts given as a string"),
    pytest.param("lastAttempt", "yesterday", id="lastAttempt that is not a date"),
    pytest.param("error", 500, id="error given as a number"),
    pytest.param("deliveredTo", ["blockchain-core"], id="deliveredTo given as a list"),
    pytest.param("processingTime", -1, id="processingTime below 0"),
    pytest.param("processingTime", "12ms", id="processingTime given as a string"),
    pytest.param("priority", "high", id="unknown field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_STATUS_FIELDS)
def test_an_invalid_message_status_field_is_rejected_with_its_path(path, value):
    rejected(
        parse_message_status,
        with_field(message_status(), path, value),
        code=MESSAGE_DELIVERY_FAILED,
        path=path,
        value=value,
    )


@pytest.mark.parametrize("status", ["queued", "processing", "delivered", "failed", "expired"])
def test_every_message_status_of_the_spec_is_accepted(status):
    assert parse_message_status(message_status(status=status)).status == status


def test_a_full_message_status_is_accepted():
    document = message_status(
        status="failed",
        attempts=3,
        lastAttempt="2025-01-10T12:00:05Z",
        error="connection refused",
        deliveredTo="blockchain-core",
        processingTime=12.5,
    )

    assert parse_message_status(document).attempts == 3


# ServiceEvent -----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["eventId", "eventType", "source", "timestamp", "data"])
def test_an_event_without_a_required_field_is_rejected(field):
    rejected(
        parse_event,
        without_field(event(), field),
        code=MESSAGE_DELIVERY_FAILED,
        path=field,
        value=None,
    )


INVALID_EVENT_FIELDS = [
    pytest.param("eventId", "evt-1", id="eventId that is not a uuid"),
    pytest.param("eventType", "Session.Created", id="eventType in uppercase"),
    pytest.param("eventType", "session created", id="eventType with a space"),
    pytest.param("eventType", "session_created", id="eventType with an underscore"),
    pytest.param("eventType", "session.*", id="eventType with a wildcard"),
    pytest.param("eventType", "", id="empty eventType"),
    pytest.param("source", "", id="empty source"),
    pytest.param("timestamp", "2025-01-10T12:00:00", id="timestamp without a zone"),
    pytest.param("timestamp", 1736510400, id="timestamp given as a number"),
    pytest.param("data", "created", id="data that is not an object"),
    pytest.param("version", 1.0, id="version given as a number"),
    pytest.param("correlationId", "req-42", id="correlationId that is not a uuid"),
    pytest.param("tags.plane", 1, id="a tag value given as a number"),
    pytest.param("tags", ["ops"], id="tags given as a list"),
    pytest.param("severity", "info", id="unknown field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_EVENT_FIELDS)
def test_an_invalid_event_field_is_rejected_with_its_path(path, value):
    rejected(
        parse_event,
        with_field(event(tags={"plane": "ops"}), path, value),
        code=MESSAGE_DELIVERY_FAILED,
        path=path,
        value=value,
    )


@pytest.mark.parametrize(
    "event_type",
    ["session.created", "block.anchored", "payment.completed", "service.registered", "v2-ping"],
)
def test_the_event_types_of_the_spec_are_accepted(event_type):
    assert parse_event(event(eventType=event_type)).eventType == event_type


def test_an_event_defaults_to_schema_version_1_0_and_keeps_open_data():
    data = {"sessionId": "sess-42", "recorder": {"node": "rdp-03"}, "frames": [1, 2]}

    model = parse_event(event(data=data))

    assert model.version == "1.0"
    assert model.data == data


# EventSubscription ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["subscriberId", "eventTypes"])
def test_a_subscription_without_a_required_field_is_rejected(field):
    rejected(
        parse_subscription,
        without_field(subscription(), field),
        code=EVENT_SUBSCRIPTION_FAILED,
        path=field,
        value=None,
    )


INVALID_SUBSCRIPTION_FIELDS = [
    pytest.param("subscriberId", "Blockchain-Core", id="subscriberId in uppercase"),
    pytest.param("subscriberId", "ab", id="subscriberId of 2 characters"),
    pytest.param("subscriberId", "", id="empty subscriberId"),
    pytest.param("subscriberId", "a" * 254, id="subscriberId of 254 characters"),
    pytest.param("subscriberId", "blockchain_core", id="subscriberId with an underscore"),
    pytest.param("eventTypes", [], id="no event types"),
    pytest.param("eventTypes", "session.*", id="eventTypes that are not a list"),
    pytest.param("eventTypes.0", "Session.*", id="an event type in uppercase"),
    pytest.param("eventTypes.1", "block created", id="an event type with a space"),
    pytest.param("eventTypes.0", 1, id="an event type given as a number"),
    pytest.param("filters", "session-recorder", id="filters that are not an object"),
    pytest.param("filters.source", "session-recorder", id="filters source not a list"),
    pytest.param("filters.source.0", 1, id="a filter source given as a number"),
    pytest.param("filters.tags.plane", 1, id="a filter tag value given as a number"),
    pytest.param("filters.data", ["amount"], id="filters data that is not an object"),
    pytest.param("deliveryMode", "stream", id="deliveryMode stream"),
    pytest.param("deliveryMode", "PUSH", id="deliveryMode in uppercase"),
    pytest.param("batchSize", 0, id="batchSize 0"),
    pytest.param("batchSize", 1001, id="batchSize 1001"),
    pytest.param("batchSize", 1.0, id="batchSize given as a float"),
    pytest.param("maxRetries", -1, id="maxRetries -1"),
    pytest.param("maxRetries", 11, id="maxRetries 11"),
    pytest.param("retryDelay", 999, id="retryDelay 999"),
    pytest.param("retryDelay", 300001, id="retryDelay 300001"),
    pytest.param("retryDelay", "5s", id="retryDelay given as a string"),
    pytest.param("endpoint", "https://x", id="unknown field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_SUBSCRIPTION_FIELDS)
def test_an_invalid_subscription_field_is_rejected_with_its_path(path, value):
    document = subscription(filters={"source": ["session-recorder"], "tags": {"plane": "ops"}})

    rejected(
        parse_subscription,
        with_field(document, path, value),
        code=EVENT_SUBSCRIPTION_FAILED,
        path=path,
        value=value,
    )


VALID_SUBSCRIPTIONS = [
    pytest.param({"eventTypes": ["payment.completed", "user.registered"]}, id="exact types"),
    pytest.param({"eventTypes": ["*"]}, id="every event"),
    pytest.param({"deliveryMode": "pull"}, id="pull delivery"),
    pytest.param({"batchSize": 1, "maxRetries": 0, "retryDelay": 1000}, id="lower ends"),
    pytest.param({"batchSize": 1000, "maxRetries": 10, "retryDelay": 300000}, id="upper ends"),
]


@pytest.mark.parametrize("overrides", VALID_SUBSCRIPTIONS)
def test_a_valid_subscription_is_accepted(overrides):
    parse_subscription(subscription(**overrides))


def test_subscription_filters_are_open():
    filters = {
        "source": ["session-recorder", "blockchain-core"],
        "tags": {"plane": "chain"},
        "data": {"amount": {"gt": 1000}},
        "region": "eu-west",
    }

    model = parse_subscription(subscription(filters=filters))

    assert model.model_dump(mode="json", exclude_none=True)["filters"] == filters


def test_a_subscription_fills_the_spec_defaults():
    model = parse_subscription(subscription())

    assert (model.deliveryMode, model.batchSize, model.maxRetries, model.retryDelay) == (
        "push",
        1,
        3,
        5000,
    )
