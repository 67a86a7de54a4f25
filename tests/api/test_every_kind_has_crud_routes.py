"""Create, read, replace, list and delete work the same way for every kind."""

from __future__ import annotations

import pytest

from lucid.kinds import Kind
from tests.api.conftest import AUTH, error_of, kind_params, valid


@pytest.mark.parametrize("kind", kind_params())
async def test_a_created_resource_reads_back_as_a_manifest(api, kind: Kind):
    body = valid(kind)
    name = body[kind.key_field]

    created = await api.post(f"/v1/{kind.plural}", json=body, headers=AUTH)

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/{kind.plural}/{name}"
    manifest = created.json()
    assert manifest["apiVersion"] == "lucid.mesh/v1"
    assert manifest["kind"] == kind.name
    assert manifest["metadata"]["name"] == name
    assert manifest["metadata"]["revision"] >= 1
    assert manifest["spec"] == kind.dump(kind.parse(body))  # what was sent, defaults filled
    read = await api.get(f"/v1/{kind.plural}/{name}")
    assert read.status_code == 200
    assert read.json() == manifest


@pytest.mark.parametrize("kind", kind_params())
async def test_put_creates_then_replaces(api, kind: Kind):
    body = valid(kind)
    name = body[kind.key_field]

    first = await api.put(f"/v1/{kind.plural}/{name}", json=body, headers=AUTH)
    again = await api.put(f"/v1/{kind.plural}/{name}", json=body, headers=AUTH)

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json()["spec"] == first.json()["spec"]


@pytest.mark.parametrize("kind", kind_params())
async def test_a_listed_kind_holds_what_was_created(api, kind: Kind):
    await api.post(f"/v1/{kind.plural}", json=valid(kind), headers=AUTH)

    listed = await api.get(f"/v1/{kind.plural}")

    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item["kind"] == kind.name


@pytest.mark.parametrize("kind", kind_params())
async def test_a_deleted_resource_is_gone_with_the_kinds_not_found_code(api, kind: Kind):
    name = valid(kind)[kind.key_field]
    await api.post(f"/v1/{kind.plural}", json=valid(kind), headers=AUTH)

    deleted = await api.delete(f"/v1/{kind.plural}/{name}", headers=AUTH)
    missing = await api.get(f"/v1/{kind.plural}/{name}")

    assert deleted.status_code == 200
    assert deleted.json()["items"] == [{"kind": kind.name, "name": name, "action": "deleted"}]
    assert missing.status_code == 404
    assert error_of(missing)["code"] == kind.not_found_code.value


async def test_a_replaced_policy_keeps_its_creation_time_and_takes_the_new_spec(api):
    from tests.builders import traffic_policy

    created = await api.post("/v1/trafficpolicies", json=traffic_policy(), headers=AUTH)
    name = created.json()["metadata"]["name"]

    replaced = await api.put(
        f"/v1/trafficpolicies/{name}", json=traffic_policy(priority=300), headers=AUTH
    )

    assert replaced.status_code == 200
    assert replaced.json()["spec"]["priority"] == 300
    assert replaced.json()["status"]["createdAt"] == created.json()["status"]["createdAt"]


async def test_a_manifest_body_is_accepted_as_well_as_a_bare_spec(api):
    from tests.builders import manifest, traffic_policy

    response = await api.post(
        "/v1/trafficpolicies", json=manifest("TrafficPolicy", traffic_policy()), headers=AUTH
    )

    assert response.status_code == 201, response.text


async def test_a_registration_starts_with_an_unknown_status(api):
    from tests.builders import registration

    response = await api.post("/v1/services", json=registration(), headers=AUTH)

    assert response.json()["status"]["status"] == "unknown"
    assert "status" not in response.json()["spec"]
