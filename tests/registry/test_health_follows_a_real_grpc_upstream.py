"""Active gRPC checks (grpc.health.v1) against a real server: status and events follow."""

from __future__ import annotations

from tests.registry.conftest import events_of, register, status_of, upstream_registration, wait_for


async def test_status_follows_the_grpc_health_service(api, store, running, grpc_upstream):
    body = upstream_registration(1, grpc_upstream.port, protocol="grpc")
    service_id = body["serviceId"]
    await register(api, body)

    async def status_is(wanted: str) -> bool:
        return status_of(store, service_id) == wanted

    await wait_for(lambda: status_is("healthy"), what="healthy")
    await grpc_upstream.serving(False)
    await wait_for(lambda: status_is("unhealthy"), what="unhealthy")
    health = (await api.get(f"/v1/services/{service_id}/health")).json()
    assert health["error"] == "gRPC health status NOT_SERVING"
    assert health["details"]["checker"] == "grpc"
    await grpc_upstream.serving(True)
    await wait_for(lambda: status_is("healthy"), what="healthy again")

    changes = [e["data"]["to"] for e in events_of(store, "service.health-changed")]
    assert changes == ["healthy", "unhealthy", "healthy"]


async def test_the_named_grpc_service_is_the_one_asked(api, store, running, grpc_upstream):
    await grpc_upstream.serving(False, service="payments.v1.Payments")
    body = upstream_registration(
        1,
        grpc_upstream.port,
        protocol="grpc",
        grpcCheck={"service": "payments.v1.Payments", "timeout": 2},
    )
    await register(api, body)

    async def unhealthy() -> bool:
        return status_of(store, body["serviceId"]) == "unhealthy"

    await wait_for(unhealthy, what="unhealthy for the named service")


async def test_an_unreachable_grpc_instance_is_unhealthy(api, store, running, grpc_upstream):
    port = grpc_upstream.port
    await grpc_upstream.server.stop(None)
    body = upstream_registration(1, port, protocol="grpc")
    await register(api, body)

    async def unhealthy() -> bool:
        return status_of(store, body["serviceId"]) == "unhealthy"

    await wait_for(unhealthy, what="unhealthy while nothing listens")
    health = (await api.get(f"/v1/services/{body['serviceId']}/health")).json()
    assert health["error"].startswith("gRPC UNAVAILABLE")
