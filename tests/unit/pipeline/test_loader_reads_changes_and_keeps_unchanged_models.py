"""The loader reads every kind translation needs, re-reads only what changes name, keeps
the very same model object when a re-read document means the same (a heartbeat), and
takes registration health from the stored status."""

from __future__ import annotations

from pathlib import Path

from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.pipeline.loader import Loader, relevant
from lucid.resources import Resources
from lucid.store import Change, SQLiteStore, Write
from tests.builders import instance, security_policy, sidecar_for, traffic_policy


def test_every_kind_is_loaded_and_a_heartbeat_keeps_the_same_model(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "lucid.db"))
    try:
        Resources(store).apply(
            [
                ServiceRegistration.model_validate(instance("payments", 1)),
                SidecarConfiguration.model_validate(sidecar_for(1)),
                TrafficPolicy.model_validate(traffic_policy()),
                SecurityPolicy.model_validate(security_policy()),
            ]
        )
        loader = Loader(store)
        since = loader.load_all()
        before = loader.inputs()
        assert [
            len(x) for x in (before.registrations, before.sidecars, before.traffic, before.security)
        ] == [1, 1, 1, 1]
        key = before.registrations[0].serviceId
        assert before.statuses == {key: "unknown"}
        record = store.get(collection="service_registry", key=key)
        assert record is not None
        doc = {**record.document, "lastHeartbeat": "2030-01-01T00:00:00Z", "status": "healthy"}
        store.write(writes=[Write("put", "service_registry", key, doc)])
        loader.apply(store.changes(since=since))
        after = loader.inputs()
        assert after.registrations[0] is before.registrations[0]
        assert after.traffic[0] is before.traffic[0]
        assert after.statuses == {key: "healthy"}
        store.write(writes=[Write("delete", "service_registry", key)])
        loader.apply(store.changes(since=since))
        assert loader.inputs().registrations == () and loader.inputs().statuses == {}
    finally:
        store.close()


def test_events_and_messages_are_not_relevant() -> None:
    changes = [
        Change(1, "event_stream", "e", "put"),
        Change(2, "message_queue", "m", "put"),
        Change(3, "service_mesh_policies", "p", "put"),
    ]
    assert [c.key for c in relevant(changes)] == ["p"]
