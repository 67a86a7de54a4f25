"""`/v1/apply` and `/v1/delete`: every document validated first, then one atomic write."""

from __future__ import annotations

from tests.api.conftest import AUTH, error_of, stored
from tests.builders import (
    manifest,
    registration,
    security_policy,
    sidecar,
    subscription,
    traffic_policy,
)

GOOD = [
    manifest("ServiceRegistration", registration()),
    manifest("SidecarConfiguration", sidecar()),
    manifest("TrafficPolicy", traffic_policy()),
    manifest("SecurityPolicy", security_policy()),
    manifest("EventSubscription", subscription()),
]


async def test_apply_reports_created_then_unchanged_then_configured(api):
    first = await api.post("/v1/apply", json={"documents": GOOD}, headers=AUTH)
    again = await api.post("/v1/apply", json={"documents": GOOD}, headers=AUTH)
    changed = [*GOOD[:2], manifest("TrafficPolicy", traffic_policy(priority=700))]
    third = await api.post("/v1/apply", json={"documents": changed}, headers=AUTH)

    assert first.status_code == 200, first.text
    assert [i["action"] for i in first.json()["items"]] == ["created"] * 5
    assert [i["action"] for i in again.json()["items"]] == ["unchanged"] * 5
    assert [(i["kind"], i["action"]) for i in third.json()["items"]] == [
        ("ServiceRegistration", "unchanged"),
        ("SidecarConfiguration", "unchanged"),
        ("TrafficPolicy", "configured"),
    ]


async def test_one_bad_document_stores_none_and_every_error_is_listed(api, store):
    documents = [
        *GOOD,
        manifest("TrafficPolicy", traffic_policy(name="bad", priority=0)),
        {"apiVersion": "lucid.mesh/v1", "kind": "TraficPolicy", "spec": {}},
    ]

    response = await api.post("/v1/apply", json={"documents": documents}, headers=AUTH)

    assert response.status_code == 422
    errors = error_of(response)["details"]["errors"]
    assert [(e["document"], e["path"], e["code"]) for e in errors] == [
        (6, "spec.priority", "LUCID_ERR_1201"),
        (7, "kind", "LUCID_ERR_1102"),
    ]
    assert stored(store) == 0


async def test_the_same_name_twice_in_one_apply_stores_none(api, store):
    documents = [GOOD[2], manifest("TrafficPolicy", traffic_policy(priority=5))]

    response = await api.post("/v1/apply", json={"documents": documents}, headers=AUTH)

    assert response.status_code == 422
    [error] = error_of(response)["details"]["errors"]
    assert (error["document"], error["path"]) == (2, "spec.name")
    assert "duplicate" in error["rule"]
    assert stored(store) == 0


async def test_an_apply_body_without_documents_is_a_bad_request(api):
    for body in ({}, {"documents": {}}, {"documents": [], "force": True}, []):
        response = await api.post("/v1/apply", json=body, headers=AUTH)
        assert response.status_code == 400, body
        assert error_of(response)["code"] == "LUCID_ERR_1102"


async def test_delete_removes_every_item_or_none(api, store):
    await api.post("/v1/apply", json={"documents": GOOD}, headers=AUTH)
    items = [
        {"kind": "TrafficPolicy", "name": traffic_policy()["name"]},
        {"kind": "securitypolicies", "name": security_policy()["name"]},
        {"kind": "sub", "name": "not-there"},
    ]

    refused = await api.post("/v1/delete", json={"items": items}, headers=AUTH)
    assert refused.status_code == 404
    assert error_of(refused)["details"] == {"kind": "EventSubscription", "name": "not-there"}
    assert stored(store) == 5

    done = await api.post("/v1/delete", json={"items": items[:2]}, headers=AUTH)
    assert done.status_code == 200
    assert [(i["kind"], i["action"]) for i in done.json()["items"]] == [
        ("TrafficPolicy", "deleted"),
        ("SecurityPolicy", "deleted"),
    ]
    assert stored(store) == 3


async def test_delete_lists_every_malformed_item(api):
    items = [{"kind": "Nope", "name": "x"}, {"kind": "tp"}, {"kind": "tp", "name": ""}]

    response = await api.post("/v1/delete", json={"items": items}, headers=AUTH)

    assert response.status_code == 400
    paths = [e["path"] for e in error_of(response)["details"]["errors"]]
    assert paths == ["items.0.kind", "items.1", "items.2.name"]


async def test_apply_returns_warnings_for_fields_envoy_cannot_honour_exactly(api):
    inexact = sidecar(resources={"limits": {"cpu": "500m"}})

    response = await api.post(
        "/v1/apply", json={"documents": [manifest("SidecarConfiguration", inexact)]}, headers=AUTH
    )

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["action"] == "created"
    assert [w["path"] for w in item["warnings"]] == ["spec.resources.limits.cpu"]
    assert "cannot enforce CPU or memory" in item["warnings"][0]["message"]
