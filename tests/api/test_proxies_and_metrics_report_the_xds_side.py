"""`GET /v1/proxies`, `/v1/proxies/{node}/config` and `/metrics` read the xDS server of the
same process; without one they answer 503 with a LUCID code rather than failing."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from lucid.api.app import create_app
from lucid.resources import Resources
from lucid.translators.node import Node
from lucid.xds.server import ProxyRegistry
from lucid.xds.server.views import XdsStatus
from tests.api.conftest import TOKEN


async def test_without_an_xds_server_the_routes_answer_503(api: httpx.AsyncClient) -> None:
    for path in ("/v1/proxies", "/v1/proxies/web-01/config", "/metrics"):
        response = await api.get(path)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "LUCID_ERR_1205"


async def test_connected_proxies_their_config_and_metrics_are_served(
    resources: Resources,
) -> None:
    registry = ProxyRegistry()
    stream = registry.open(Node(id="web-01", service="web"), "delta", "ADS", "ipv4:127.0.0.1:1")
    metrics = CollectorRegistry()
    app = create_app(resources, token=TOKEN)
    app.state.xds = XdsStatus(registry, None, metrics, "127.0.0.1:18000")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lucid.test") as client:
        listed = (await client.get("/v1/proxies")).json()
        assert listed["xdsAddress"] == "127.0.0.1:18000"
        (proxy,) = listed["items"]
        assert (proxy["nodeId"], proxy["transport"], proxy["stream"]) == (
            "web-01",
            "delta",
            stream.id,
        )
        dump = (await client.get("/v1/proxies/web-01/config")).json()
        assert dump["nodeId"] == "web-01" and dump["streams"][0]["transport"] == "delta"
        missing = await client.get("/v1/proxies/nobody/config")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "LUCID_ERR_1104"
        scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
