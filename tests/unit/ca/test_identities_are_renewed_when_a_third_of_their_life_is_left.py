"""`identities` keeps a certificate while more than a third of its 24 hours is left, and
renews it after; a new plane also means a new certificate. Time is a clock
the test moves, never a sleep."""

from __future__ import annotations

from cryptography import x509

from lucid.ca import CertificateAuthority
from lucid.translators.state import spiffe_id
from tests.unit.ca.conftest import certificate

MESH = {"api-gateway": "ops", "blockchain-core": "chain"}


def test_the_same_identity_is_returned_while_it_is_fresh(clock):
    ca = CertificateAuthority.ephemeral(clock=clock)
    first = ca.identities(MESH)

    clock.advance(hours=15)

    assert ca.identities(MESH) == first
    assert ca.issue("api-gateway", "ops") == first["api-gateway"]


def test_an_identity_is_renewed_once_less_than_a_third_of_its_life_is_left(clock):
    ca = CertificateAuthority.ephemeral(clock=clock)
    first = ca.identities(MESH)

    clock.advance(hours=16)
    renewed = ca.identities(MESH)

    for name in MESH:
        assert renewed[name] != first[name]
        cert = certificate(renewed[name].certificate_chain)
        assert cert.not_valid_before_utc <= clock.now < cert.not_valid_after_utc
        assert (cert.not_valid_after_utc - clock.now).total_seconds() > 23 * 3600
    clock.advance(hours=1)
    assert ca.identities(MESH) == renewed


def test_a_service_that_moves_plane_gets_a_new_identity(clock):
    ca = CertificateAuthority.ephemeral(clock=clock)
    first = ca.identities(MESH)

    moved = ca.identities({**MESH, "blockchain-core": "wallet"})

    assert moved["api-gateway"] == first["api-gateway"]
    assert moved["blockchain-core"] != first["blockchain-core"]
    names = certificate(moved["blockchain-core"].certificate_chain).extensions
    uris = names.get_extension_for_class(x509.SubjectAlternativeName).value
    assert uris.get_values_for_type(x509.UniformResourceIdentifier) == [
        spiffe_id("wallet", "blockchain-core")
    ]


def test_identities_are_sorted_and_services_no_longer_named_are_forgotten(clock):
    ca = CertificateAuthority.ephemeral(clock=clock)
    first = ca.identities(MESH)

    assert list(first) == sorted(MESH)
    ca.identities({"api-gateway": "ops"})
    again = ca.identities(MESH)

    assert again["api-gateway"] == first["api-gateway"]
    assert again["blockchain-core"] != first["blockchain-core"]
