"""An instance behind a sidecar that requires mesh mTLS is probed over TLS as the control
plane's health checker: the service's sidecar configuration decides (the translators' own
rule), the probe presents the health-checker certificate, trusts the mesh CA only, sends
SNI `<service>.lucid.onion`, and wants the service's own certificate (DNS SAN, and over
HTTP its SPIFFE id). Real HTTPS and gRPC servers stand in for the sidecar; the registry
component wires it from the CA and the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from lucid.ca import CertificateAuthority
from lucid.kinds import BY_NAME
from lucid.models import ServiceRegistration, SidecarConfiguration
from lucid.registry import Registry, RegistryComponent
from lucid.registry.mesh_tls import MeshTarget, MeshTls
from lucid.registry.probes import Probes
from lucid.resources import Resources
from lucid.translators.node import HEALTH_CHECKER_ID
from lucid.translators.state import spiffe_id
from tests import builders
from tests.registry.conftest import status_of, upstream_registration, wait_for
from tests.registry.mesh_upstreams import grpc_upstream, https_upstream
from tests.unit.ca.conftest import Clock

MTLS_ON = {"mTLS": {"enabled": True}}
MTLS_OFF = {"mTLS": {"enabled": False}}


def payments(number: int, port: int, protocol: str = "http") -> ServiceRegistration:
    return ServiceRegistration.model_validate(upstream_registration(number, port, protocol))


def sidecar(number: int, security: dict) -> SidecarConfiguration:
    return SidecarConfiguration.model_validate(builders.sidecar_for(number, security=security))


def mesh_for(ca: CertificateAuthority, *registrations, sidecars=()) -> MeshTls:
    mesh = MeshTls(ca)
    for registration in registrations:
        mesh.registration(registration.serviceId, registration)
    for found in sidecars:
        mesh.sidecar(found.serviceId, found)
    return mesh


# -- which instances ----------------------------------------------------------------------


def test_the_services_sidecar_decides_as_the_translators_do():
    ca = CertificateAuthority.ephemeral()
    first, second = payments(1, 1001), payments(2, 1002)
    mesh = mesh_for(ca, first, second, sidecars=[sidecar(2, MTLS_ON)])

    # The lowest serviceId with a sidecar configuration speaks for the whole service.
    assert mesh.target(first) is not None and mesh.target(second) is not None
    mesh.sidecar(first.serviceId, sidecar(1, MTLS_OFF))
    assert mesh.target(first) is None and mesh.target(second) is None
    mesh.sidecar(first.serviceId, None)
    assert mesh.target(first) is not None
    mesh.registration(second.serviceId, None)
    assert mesh.target(first) is None


def test_a_target_names_the_service_the_mesh_ca_and_the_health_checker():
    ca = CertificateAuthority.ephemeral()
    registration = payments(1, 1001)

    target = mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]).target(registration)

    assert target is not None
    assert target.server_name == "payments.lucid.onion"
    assert target.trust_bundle == ca.trust_bundle()
    assert target.identity == ca.health_checker()


def test_only_the_services_spiffe_id_is_accepted_in_any_plane():
    target = MeshTarget("payments", "payments.lucid.onion", "", CertificateAuthority.ephemeral()
                        .health_checker())  # fmt: skip

    assert target.accepts([spiffe_id("wallet", "payments")])
    assert target.accepts(["urn:x", spiffe_id("chain", "payments")])
    assert not target.accepts([spiffe_id("wallet", "orders")])
    assert not target.accepts(["spiffe://lucid.mesh/plane/a/b/service/payments"])
    assert not target.accepts([HEALTH_CHECKER_ID, "spiffe://other.mesh/plane/x/service/payments"])
    assert not target.accepts([])


# -- probing over HTTP ----------------------------------------------------------------------


async def test_an_http_probe_presents_the_health_checker_and_checks_the_server():
    ca = CertificateAuthority.ephemeral()
    with https_upstream(ca.issue("payments", "wallet"), ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        probes = Probes(mesh=mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]))
        try:
            attempt = await probes.attempt(registration, 5)
            details = probes.details(registration)
        finally:
            await probes.close()

    assert attempt.passed, attempt.error
    assert upstream.clients == [[HEALTH_CHECKER_ID]]
    assert upstream.server_names == ["payments.lucid.onion"]
    assert details["target"] == f"https://127.0.0.1:{upstream.port}/health"
    assert details["tls"] == "mesh mTLS to payments.lucid.onion"


async def test_without_the_mesh_the_same_server_cannot_be_probed():
    ca = CertificateAuthority.ephemeral()
    with https_upstream(ca.issue("payments", "wallet"), ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        probes = Probes()
        try:
            attempt = await probes.attempt(registration, 5)
        finally:
            await probes.close()

    assert not attempt.passed
    assert upstream.clients == []


async def test_another_services_certificate_is_refused():
    ca = CertificateAuthority.ephemeral()
    with https_upstream(ca.issue("orders", "wallet"), ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        probes = Probes(mesh=mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]))
        try:
            attempt = await probes.attempt(registration, 5)
        finally:
            await probes.close()

    assert not attempt.passed
    assert "payments.lucid.onion" in (attempt.error or "")
    assert upstream.clients == []


async def test_a_certificate_of_another_ca_is_refused():
    ca, other = CertificateAuthority.ephemeral(), CertificateAuthority.ephemeral()
    with https_upstream(other.issue("payments", "wallet"), ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        probes = Probes(mesh=mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]))
        try:
            attempt = await probes.attempt(registration, 5)
        finally:
            await probes.close()

    assert not attempt.passed
    assert "certificate verify failed" in (attempt.error or "")


async def test_the_right_host_name_with_another_spiffe_id_is_refused():
    ca = CertificateAuthority.ephemeral()
    # A certificate of the mesh CA naming payments' host but orders' SPIFFE id.
    odd, _ = ca._sign(
        "payments",
        [
            x509.DNSName("payments.lucid.onion"),
            x509.UniformResourceIdentifier(spiffe_id("wallet", "orders")),
        ],
        [ExtendedKeyUsageOID.SERVER_AUTH],
        datetime.now(UTC),
    )
    with https_upstream(odd, ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        probes = Probes(mesh=mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]))
        try:
            attempt = await probes.attempt(registration, 5)
        finally:
            await probes.close()

    assert not attempt.passed
    assert attempt.error == (
        "the server's certificate is not payments's "
        "(URI SANs: ['spiffe://lucid.mesh/plane/wallet/service/orders'])"
    )


async def test_a_renewed_health_checker_certificate_is_used_from_then_on():
    # The CA's clock starts 16 hours ago, so both certificates are valid for the server.
    clock = Clock(now=datetime.now(UTC) - timedelta(hours=16))
    ca = CertificateAuthority.ephemeral(clock=clock)
    with https_upstream(ca.issue("payments", "wallet"), ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        probes = Probes(mesh=mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]))
        try:
            first = await probes.attempt(registration, 5)
            clock.advance(hours=16)
            second = await probes.attempt(registration, 5)
            await probes.prune([registration])
            third = await probes.attempt(registration, 5)
        finally:
            await probes.close()

    assert first.passed and second.passed and third.passed
    assert upstream.serials[0] != upstream.serials[1] == upstream.serials[2]


# -- probing over gRPC ----------------------------------------------------------------------


async def test_a_grpc_probe_uses_mesh_credentials_and_the_target_name_override():
    ca = CertificateAuthority.ephemeral()
    async with grpc_upstream(ca.issue("payments", "wallet"), ca.trust_bundle()) as port:
        registration = payments(1, port, protocol="grpc")
        meshed = Probes(mesh=mesh_for(ca, registration, sidecars=[sidecar(1, MTLS_ON)]))
        plain = Probes()
        try:
            attempt = await meshed.attempt(registration, 5)
            refused = await plain.attempt(registration, 2)
        finally:
            await meshed.close()
            await plain.close()

    assert attempt.passed, attempt.error
    assert not refused.passed


# -- the registry component ---------------------------------------------------------------


@pytest.mark.parametrize("later", [False, True], ids=["stored-before", "stored-after-start"])
async def test_the_component_probes_with_the_ca_it_is_given(store, later):
    ca = CertificateAuthority.ephemeral()
    resources = Resources(store)
    with https_upstream(ca.issue("payments", "wallet"), ca.trust_bundle()) as upstream:
        registration = payments(1, upstream.port)
        if not later:
            await asyncio.to_thread(resources.apply, [sidecar(1, MTLS_ON)])
        component = RegistryComponent(Registry(store), concurrency=4, ca=ca)
        task = asyncio.create_task(component.run())
        try:
            await asyncio.wait_for(component.started.wait(), 10)
            if later:
                await asyncio.to_thread(resources.apply, [sidecar(1, MTLS_ON)])
            await asyncio.to_thread(resources.apply, [registration])

            async def healthy() -> bool:
                return status_of(store, registration.serviceId) == "healthy"

            await wait_for(healthy, what="a healthy mTLS instance")
        finally:
            component.stop()
            await asyncio.wait_for(task, 10)

    assert [HEALTH_CHECKER_ID] in upstream.clients
    assert BY_NAME["SidecarConfiguration"].collection == "sidecar_configurations"
