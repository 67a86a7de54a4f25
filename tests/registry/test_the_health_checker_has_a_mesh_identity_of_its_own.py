"""The mesh CA issues the control plane's health checker a client certificate whose only
SAN is HEALTH_CHECKER_ID (no `plane/`, no DNS name): signed by the mesh CA, for client
authentication only, kept while more than a third of its life is left and renewed after,
like the workload identities. Time is a clock the test moves, never a sleep."""

from __future__ import annotations

import json

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from lucid.ca import CertificateAuthority
from lucid.translators.node import HEALTH_CHECKER_ID
from tests.unit.ca.conftest import Clock, certificate


def test_its_only_name_is_the_health_checker_spiffe_id():
    ca = CertificateAuthority.ephemeral()

    cert = certificate(ca.health_checker().certificate_chain)

    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [HEALTH_CHECKER_ID]
    assert names.get_values_for_type(x509.DNSName) == []
    assert HEALTH_CHECKER_ID == "spiffe://lucid.mesh/control-plane/health-checker"
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    cert.verify_directly_issued_by(ca.certificate)


def test_it_is_kept_while_fresh_and_renewed_with_a_third_of_its_life_left():
    clock = Clock()
    ca = CertificateAuthority.ephemeral(clock=clock)
    first = ca.health_checker()

    clock.advance(hours=15)
    assert ca.health_checker() == first

    clock.advance(hours=1)
    renewed = ca.health_checker()

    assert renewed != first
    cert = certificate(renewed.certificate_chain)
    assert cert.not_valid_before_utc <= clock.now < cert.not_valid_after_utc
    assert ca.health_checker() == renewed


def test_it_is_not_a_workload_identity_and_never_written_to_disk(tmp_path):
    ca = CertificateAuthority.load(tmp_path / "ca")

    ca.health_checker()
    ca.identities({"payments": "wallet"})

    saved = json.loads((tmp_path / "ca" / "identities.json").read_text())
    assert list(saved) == ["payments"]
    assert ca.health_checker() == ca.health_checker()
