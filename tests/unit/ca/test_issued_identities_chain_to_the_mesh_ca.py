"""A workload certificate names its service (SPIFFE URI and DNS SANs), lives 24 hours, and
verifies against the trust bundle: checked with cryptography, with `openssl verify`, and
by a real mutual TLS handshake between two identities."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from lucid.ca import CertificateAuthority
from lucid.translators.state import spiffe_id
from tests.unit.ca.conftest import START, certificate


def test_the_ca_is_a_self_signed_p256_authority_for_ten_years(clock):
    ca = CertificateAuthority.ephemeral(clock=clock)
    root = certificate(ca.trust_bundle())

    root.verify_directly_issued_by(root)
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.public_key().curve.name == "secp256r1"
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert timedelta(days=3650) <= lifetime <= timedelta(days=3653)


def test_a_workload_certificate_names_its_service_and_plane(clock):
    ca = CertificateAuthority.ephemeral(clock=clock)

    identity = ca.issue("blockchain-core", "chain")

    cert = certificate(identity.certificate_chain)
    cert.verify_directly_issued_by(certificate(ca.trust_bundle()))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [
        spiffe_id("chain", "blockchain-core")
    ]
    assert names.get_values_for_type(x509.DNSName) == [
        "blockchain-core",
        "blockchain-core.lucid.onion",
    ]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(hours=24)
    assert cert.not_valid_before_utc <= START < cert.not_valid_after_utc


def test_the_private_key_belongs_to_the_certificate(clock):
    identity = CertificateAuthority.ephemeral(clock=clock).issue("api-gateway", "ops")

    key = serialization.load_pem_private_key(identity.private_key.encode(), password=None)
    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*public) == certificate(
        identity.certificate_chain
    ).public_key().public_bytes(*public)
    assert "PRIVATE KEY" not in repr(identity)


def test_openssl_verifies_the_certificate_for_clients_and_servers(tmp_path):
    ca = CertificateAuthority.ephemeral()
    (tmp_path / "ca.pem").write_text(ca.trust_bundle())
    (tmp_path / "cert.pem").write_text(ca.issue("session-recorder", "ops").certificate_chain)

    for purpose in ("sslclient", "sslserver"):
        result = subprocess.run(
            ["openssl", "verify", "-purpose", purpose, "-CAfile", "ca.pem", "cert.pem"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def _context(purpose: ssl.Purpose, ca: CertificateAuthority, identity, folder, name):
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    cert.write_text(identity.certificate_chain)
    key.write_text(identity.private_key)
    context = ssl.create_default_context(purpose, cadata=ca.trust_bundle())
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def test_two_identities_complete_a_mutual_tls_handshake(tmp_path):
    ca = CertificateAuthority.ephemeral()
    server_context = _context(
        ssl.Purpose.CLIENT_AUTH, ca, ca.issue("blockchain-core", "chain"), tmp_path, "server"
    )
    client_context = _context(
        ssl.Purpose.SERVER_AUTH, ca, ca.issue("api-gateway", "ops"), tmp_path, "client"
    )
    seen: dict[str, object] = {}
    left, right = socket.socketpair()

    def serve() -> None:
        with server_context.wrap_socket(right, server_side=True) as tls:
            seen["client"] = tls.getpeercert()

    thread = threading.Thread(target=serve)
    thread.start()
    with client_context.wrap_socket(left, server_hostname="blockchain-core.lucid.onion") as tls:
        server = tls.getpeercert()
    thread.join(timeout=10)

    assert ("URI", spiffe_id("chain", "blockchain-core")) in server["subjectAltName"]
    assert ("URI", spiffe_id("ops", "api-gateway")) in seen["client"]["subjectAltName"]
