"""Active HTTP checks against a real server: stored status and events follow its answers."""

from __future__ import annotations

from tests.registry.conftest import events_of, register, status_of, upstream_registration, wait_for


async def test_status_follows_the_upstream_down_and_back(api, store, running, http_upstream):
    body = upstream_registration(1, http_upstream.port)
    service_id = body["serviceId"]
    await register(api, body)

    async def status_is(wanted: str) -> bool:
        return status_of(store, service_id) == wanted

    await wait_for(lambda: status_is("healthy"), what="healthy")
    http_upstream.answer = 503
    await wait_for(lambda: status_is("unhealthy"), what="unhealthy")
    http_upstream.answer = 200
    await wait_for(lambda: status_is("healthy"), what="healthy again")

    changes = [
        (e["data"]["from"], e["data"]["to"])
        for e in events_of(store)
        if e["eventType"] == "service.health-changed"
    ]
    assert changes == [("unknown", "healthy"), ("healthy", "unhealthy"), ("unhealthy", "healthy")]
    health = (await api.get(f"/v1/services/{service_id}/health")).json()
    assert health["status"] == "healthy"
    assert health["consecutiveSuccesses"] >= 1 and health["consecutiveFailures"] == 0
    assert health["responseTime"] >= 0
    stored = store.get(collection="service_registry", key=service_id).document
    assert stored["health"]["status"] == "healthy"
    assert stored["lastHealthCheck"] == stored["health"]["lastCheck"]


async def test_the_failure_is_recorded_as_the_last_error(api, store, running, http_upstream):
    http_upstream.answer = 500
    body = upstream_registration(1, http_upstream.port)
    await register(api, body)

    async def unhealthy() -> bool:
        return status_of(store, body["serviceId"]) == "unhealthy"

    await wait_for(unhealthy, what="unhealthy")
    health = (await api.get(f"/v1/services/{body['serviceId']}/health")).json()
    assert health["error"] == "HTTP 500, expected 200"
    assert health["details"]["checker"] == "http"


async def test_method_headers_body_and_expected_status_are_sent_as_configured(
    api, store, running, http_upstream
):
    http_upstream.answer = 204
    check = {"method": "POST", "headers": {"x-probe": "lucid"}, "body": "ping"}
    body = upstream_registration(
        1, http_upstream.port, endpoint="/ready", httpCheck={**check, "expectedStatus": [204]}
    )
    await register(api, body)

    async def healthy() -> bool:
        return status_of(store, body["serviceId"]) == "healthy"

    await wait_for(healthy, what="healthy on 204")
    method, path, headers, sent = http_upstream.requests[0]
    assert (method, path, sent) == ("POST", "/ready", b"ping")
    assert headers["x-probe"] == "lucid"


async def test_a_healthy_instance_failing_below_the_threshold_is_degraded(
    api, store, running, http_upstream
):
    body = upstream_registration(1, http_upstream.port, failureThreshold=3)
    await register(api, body)

    async def status_is(wanted: str) -> bool:
        return status_of(store, body["serviceId"]) == wanted

    await wait_for(lambda: status_is("healthy"), what="healthy")
    http_upstream.answer = 503
    await wait_for(lambda: status_is("degraded"), what="degraded")
    http_upstream.answer = 200
    await wait_for(lambda: status_is("healthy"), what="healthy again")
