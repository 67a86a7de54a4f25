"""Framework errors and unexpected failures use the same `{"error": ...}` envelope."""

from __future__ import annotations

import httpx

from lucid.api.app import create_app
from tests.api.conftest import AUTH, TOKEN, error_of


async def test_an_unknown_path_is_a_not_found_error_in_the_envelope(api):
    response = await api.get("/v1/widgets")

    assert response.status_code == 404
    assert "/v1/widgets" in error_of(response)["message"]


async def test_a_wrong_method_is_method_not_allowed_in_the_envelope(api):
    response = await api.patch("/v1/services", headers=AUTH)

    assert response.status_code == 405
    assert error_of(response)["code"].startswith("LUCID_ERR_")


class BrokenResources:
    """Fails the way a bug would, with something secret-looking in the exception."""

    def list(self, kind, *, where=None):
        raise RuntimeError(f"boom at /var/lib/secret.db with {TOKEN}")


async def test_an_unexpected_failure_is_a_500_without_internals(caplog):
    app = create_app(BrokenResources(), token=TOKEN)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://lucid.test") as client:
        response = await client.get("/v1/services")

    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "LUCID_ERR_1205"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert TOKEN not in response.text
    reference = error["details"]["reference"]
    assert reference in caplog.text  # the log has the details, under the same reference


async def test_healthz_answers_ok(api):
    response = await api.get("/healthz")

    assert response.json() == {"status": "ok"}


async def test_openapi_describes_every_kind_and_its_body_schema(api):
    document = (await api.get("/openapi.json")).json()

    assert "/v1/services/{name}" in document["paths"]
    assert "/v1/apply" in document["paths"]
    body = document["paths"]["/v1/trafficpolicies"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TrafficPolicy"
    }
    assert "TrafficPolicy" in document["components"]["schemas"]
    assert "ServiceRegistration" in document["components"]["schemas"]
