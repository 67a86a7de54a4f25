"""Writes need `Authorization: Bearer <token>`; reads are open; the token is never echoed."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUTH, TOKEN, error_of, stored
from tests.builders import manifest, registration, traffic_policy

WRITES = [
    ("POST", "/v1/services", registration()),
    ("PUT", f"/v1/services/{registration()['serviceId']}", registration()),
    ("DELETE", f"/v1/services/{registration()['serviceId']}", None),
    ("POST", "/v1/apply", {"documents": [manifest("TrafficPolicy", traffic_policy())]}),
    ("POST", "/v1/delete", {"items": [{"kind": "TrafficPolicy", "name": "x"}]}),
]
BAD_HEADERS = [
    pytest.param({}, id="missing"),
    pytest.param({"Authorization": "Bearer not-the-token"}, id="wrong"),
    pytest.param({"Authorization": f"Basic {TOKEN}"}, id="wrong-scheme"),
    pytest.param({"Authorization": "Bearer "}, id="empty"),
    pytest.param({"Authorization": f"Bearer {TOKEN}x"}, id="longer"),
]


@pytest.mark.parametrize("headers", BAD_HEADERS)
@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
async def test_a_write_without_the_right_token_is_unauthorized_and_stores_nothing(
    api, store, method, path, body, headers
):
    response = await api.request(method, path, json=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert error_of(response)["code"] == "LUCID_ERR_1203"
    assert TOKEN not in response.text
    assert stored(store) == 0


async def test_reads_need_no_token(api):
    for path in ("/healthz", "/openapi.json", "/v1/services", "/v1/trafficpolicies"):
        assert (await api.get(path)).status_code == 200, path


async def test_the_token_never_appears_in_any_response(api):
    responses = [
        await api.post("/v1/services", json=registration(), headers=AUTH),
        await api.post("/v1/services", json=registration(), headers=AUTH),
        await api.post("/v1/services", content=b"{nope", headers=AUTH),
        await api.get("/v1/services"),
        await api.get("/openapi.json"),
        await api.post("/v1/delete", json={"items": []}, headers={"Authorization": "Bearer x"}),
    ]

    for response in responses:
        assert TOKEN not in response.text
        assert all(TOKEN not in value for value in response.headers.values())
