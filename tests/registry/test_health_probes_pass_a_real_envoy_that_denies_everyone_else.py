"""The registry's probes through the real Envoy 1.40, in front of a real HTTP app: the
generated inbound listeners of two services whose sidecars deny every caller (deny-all)
and allow one request a minute, one with mesh mTLS, one without.

With mTLS, the probe presenting the health-checker certificate gets 200 on the health
path, again and again (the rate limit does not count it), and 403 on any other path; a
probe without a certificate cannot connect. A mesh service's certificate without source
headers (its sidecar running the destination's health check) gets 200 on the health path
and 403 elsewhere; with the source headers its sidecar sets on its app's requests, 403.
Without mTLS, the probe (which sends no source header) gets 200 on the health path and
403 elsewhere, and a caller naming itself gets 403.
"""

from __future__ import annotations

import ssl

import httpx
import pytest

from lucid.ca import CertificateAuthority
from lucid.models import ServiceRegistration, SidecarConfiguration
from lucid.registry.mesh_tls import MeshTarget, MeshTls
from lucid.registry.probes import Probes, mesh_ssl_context
from lucid.translators import inbound
from lucid.translators.node import HEALTH_CHECKER_ID, Node
from lucid.translators.state import build_state
from tests import builders
from tests.e2e.harness.processes import free_port
from tests.unit.translators.destination_envoy import (
    local_app,
    running_envoy,
    static_bootstrap,
)

ONE_A_MINUTE = builders.sidecar_policy(
    "rate-limit",
    policyId="one-a-minute",
    rules=[builders.policy_rule("rate-limit", parameters={"requests": 1, "unit": "minute"})],
)
SERVICES = {"payments": (1, True), "ledger": (2, False)}  # name: (instance, mTLS)


def registration(name: str, port: int, path: str = "/health") -> ServiceRegistration:
    number, _ = SERVICES[name]
    return ServiceRegistration.model_validate(
        builders.instance(
            name,
            number,
            plane="wallet",
            endpoint=builders.endpoint(host="127.0.0.1", port=port),
            healthCheck=builders.health_check(endpoint=path, interval=5, timeout=2, retries=1),
        )
    )


def sidecars() -> list[SidecarConfiguration]:
    return [
        SidecarConfiguration.model_validate(
            builders.sidecar_for(
                number,
                security={"mTLS": {"enabled": mtls}, "authorization": {"policy": "deny-all"}},
                policies=[ONE_A_MINUTE],
            )
        )
        for number, mtls in SERVICES.values()
    ]


@pytest.fixture(scope="module")
def ca():
    return CertificateAuthority.ephemeral()


@pytest.fixture(scope="module")
def ports():
    return {name: free_port() for name in SERVICES}


@pytest.fixture(scope="module")
def envoy(tmp_path_factory, ca, ports):
    state = build_state([registration(n, p) for n, p in ports.items()], sidecars())
    identity = ca.issue("payments", "wallet")
    folder = tmp_path_factory.mktemp("health-probes")
    with local_app() as app_port:
        listeners, routes, clusters = [], {}, {}
        for name, port in ports.items():
            node = Node(id=name, service=name, plane="wallet", app_port=app_port, inbound_port=port)
            listener = inbound.inbound_listener(state, node)
            listener.name = f"inbound-{name}"
            listeners.append(listener)
            routes[listener.name] = [inbound.inbound_route_configuration(state, node)]
            clusters.update({c.name: c for c in inbound.local_clusters(state, node)})
        bootstrap = static_bootstrap(
            listeners,
            [],
            list(clusters.values()),
            routes_for=routes,
            identity={
                "ca": ca.trust_bundle(),
                "chain": identity.certificate_chain,
                "key": identity.private_key,
            },
        )
        with running_envoy(bootstrap, folder, ports["payments"]):
            yield


@pytest.fixture
async def probes(ca, ports):
    mesh = MeshTls(ca)
    for name, port in ports.items():
        found = registration(name, port)
        mesh.registration(found.serviceId, found)
    for found in sidecars():
        mesh.sidecar(found.serviceId, found)
    meshed = Probes(mesh=mesh)
    yield meshed
    await meshed.close()


async def test_with_mtls_the_health_checker_passes_every_time(envoy, ports, probes):
    target = registration("payments", ports["payments"])

    attempts = [await probes.attempt(target, 5) for _ in range(3)]

    assert [(a.passed, a.error) for a in attempts] == [(True, None)] * 3
    assert probes.details(target)["target"].startswith("https://")


async def test_with_mtls_the_health_checker_reaches_no_other_path(envoy, ports, probes):
    for path in ("/admin", "/health/x", "/healthz", "/"):
        attempt = await probes.attempt(registration("payments", ports["payments"], path), 5)

        assert attempt.error == "HTTP 403, expected 200", path


async def test_a_probe_without_a_certificate_fails(envoy, ca, ports):
    target = registration("payments", ports["payments"])
    plain = Probes()
    try:
        attempt = await plain.attempt(target, 5)
    finally:
        await plain.close()
    trusting = ssl.create_default_context(cadata=ca.trust_bundle())  # but presenting nothing
    anonymous = httpx.AsyncClient(verify=trusting, trust_env=False)

    assert not attempt.passed
    # TLS 1.3 sends "certificate required" after the handshake: it surfaces from the read,
    # as httpx's TransportError or as the ssl module's own error, depending on timing.
    with pytest.raises((httpx.TransportError, ssl.SSLError)):
        async with anonymous:
            await anonymous.get(
                f"https://127.0.0.1:{ports['payments']}/health",
                extensions={"sni_hostname": "payments.lucid.onion"},
            )


async def test_a_mesh_sidecars_check_passes_and_its_apps_requests_do_not(envoy, ca, ports):
    web = MeshTarget(
        "payments", "payments.lucid.onion", ca.trust_bundle(), ca.issue("web", "wallet")
    )
    app = {"x-lucid-source": "web", "x-lucid-source-plane": "wallet"}
    async with httpx.AsyncClient(verify=mesh_ssl_context(web), trust_env=False) as client:

        async def get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
            return await client.get(
                f"https://127.0.0.1:{ports['payments']}{path}",
                headers=headers,
                extensions={"sni_hostname": "payments.lucid.onion"},
            )

        checks = [(await get("/health")).status_code for _ in range(3)]
        elsewhere = await get("/admin")
        from_app = await get("/health", app)

    assert checks == [200, 200, 200]  # and the one-a-minute rate limit did not count them
    assert (elsewhere.status_code, from_app.status_code) == (403, 403)
    assert HEALTH_CHECKER_ID not in from_app.text


async def test_without_mtls_the_probe_passes_on_the_health_path_only(envoy, ports, probes):
    health = registration("ledger", ports["ledger"])
    other = registration("ledger", ports["ledger"], "/admin")

    attempts = [await probes.attempt(health, 5) for _ in range(3)]
    denied = await probes.attempt(other, 5)

    assert [(a.passed, a.error) for a in attempts] == [(True, None)] * 3
    assert probes.details(health)["target"].startswith("http://")
    assert denied.error == "HTTP 403, expected 200"


async def test_without_mtls_a_caller_naming_itself_is_denied(envoy, ports):
    async with httpx.AsyncClient(trust_env=False) as client:
        named = await client.get(
            f"http://127.0.0.1:{ports['ledger']}/health", headers={"x-lucid-source": "web"}
        )
        planed = await client.get(
            f"http://127.0.0.1:{ports['ledger']}/health", headers={"x-lucid-source-plane": "wallet"}
        )

    assert (named.status_code, planed.status_code) == (403, 403)
