"""GET /v1/services filters by serviceName, cluster, plane and status; /health is a HealthStatus."""

from __future__ import annotations

import pytest

from lucid.models import HealthStatus
from lucid.store import Write
from tests import builders
from tests.registry.conftest import register


@pytest.fixture
async def three(api, store):
    await register(api, builders.instance("payments", 1, plane="wallet", cluster="tron-payment"))
    await register(api, builders.instance("payments", 2, plane="wallet", cluster="tron-payment"))
    await register(api, builders.instance("ledger", 3))
    record = store.get(collection="service_registry", key=builders.numbered_service_id(2))
    store.write(
        writes=[
            Write(
                "put",
                "service_registry",
                record.key,
                {**record.document, "status": "unhealthy"},
            )
        ]
    )


def numbers(response) -> list[int]:
    return sorted(int(i["spec"]["serviceId"][-3:]) for i in response.json()["items"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [1, 2, 3]),
        ("serviceName=payments", [1, 2]),
        ("cluster=blockchain-core", [3]),
        ("plane=wallet", [1, 2]),
        ("status=unhealthy", [2]),
        ("status=unknown&plane=wallet", [1]),
    ],
)
async def test_lists_filter_on_the_registry_fields(api, three, query, expected):
    assert numbers(await api.get(f"/v1/services?{query}")) == expected


async def test_an_unknown_filter_is_refused(api):
    response = await api.get("/v1/services?colour=blue")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "LUCID_ERR_1004"


async def test_the_health_route_returns_a_spec_health_status(api):
    await register(api, builders.registration())

    response = await api.get(f"/v1/services/{builders.SERVICE_ID}/health")

    assert response.status_code == 200
    health = HealthStatus.model_validate(response.json())
    assert health.status == "unknown"


async def test_the_health_of_an_unknown_service_is_1002(api):
    response = await api.get(f"/v1/services/{builders.numbered_service_id(9)}/health")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "LUCID_ERR_1002"
