"""A CA directory is created 0700 with 0600 files, survives a restart (same CA, same
identities, so secret versions do not change), and refuses a broken or expired CA with
LUCID_ERR_1204. No key ever reaches a log line."""

from __future__ import annotations

import json
import logging
import stat

import pytest
from cryptography import x509

from lucid.ca import CertificateAuthority, CertificateAuthorityError
from lucid.errors import ErrorCode

MESH = {"api-gateway": "ops", "tron-payment-service": "wallet"}


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_directory_is_private_and_holds_the_ca_and_the_identities(tmp_path, clock):
    directory = tmp_path / "data" / "ca"

    CertificateAuthority.load(directory, clock=clock).identities(MESH)

    assert mode(directory) == 0o700
    assert sorted(p.name for p in directory.iterdir()) == ["ca.key", "ca.pem", "identities.json"]
    for path in directory.iterdir():
        assert mode(path) == 0o600, path
    assert sorted(json.loads((directory / "identities.json").read_text())) == sorted(MESH)


def test_a_restart_keeps_the_ca_and_every_identity(tmp_path, clock):
    first = CertificateAuthority.load(tmp_path / "ca", clock=clock)
    issued = first.identities(MESH)

    clock.advance(hours=2)
    second = CertificateAuthority.load(tmp_path / "ca", clock=clock)

    assert second.trust_bundle() == first.trust_bundle()
    assert second.identities(MESH) == issued


def test_renewals_are_saved_for_the_next_restart(tmp_path, clock):
    first = CertificateAuthority.load(tmp_path / "ca", clock=clock)
    first.identities(MESH)
    clock.advance(hours=20)
    renewed = first.identities(MESH)

    assert CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH) == renewed


def test_an_unreadable_identities_file_means_new_identities_not_a_failure(tmp_path, clock):
    first = CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH)
    (tmp_path / "ca" / "identities.json").write_text("{not json")

    again = CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH)

    assert again.keys() == first.keys()
    assert again["api-gateway"] != first["api-gateway"]


def test_a_saved_identity_whose_key_does_not_match_is_reissued(tmp_path, clock):
    first = CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH)
    path = tmp_path / "ca" / "identities.json"
    saved = json.loads(path.read_text())
    saved["api-gateway"]["key"] = saved["tron-payment-service"]["key"]
    path.write_text(json.dumps(saved))

    again = CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH)

    assert again["api-gateway"] != first["api-gateway"]
    assert again["tron-payment-service"] == first["tron-payment-service"]


def test_identities_of_a_replaced_ca_are_reissued_by_the_new_one(tmp_path, clock):
    old = CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH)
    CertificateAuthority.load(tmp_path / "new", clock=clock)
    for name in ("ca.pem", "ca.key"):
        (tmp_path / "ca" / name).write_bytes((tmp_path / "new" / name).read_bytes())

    ca = CertificateAuthority.load(tmp_path / "ca", clock=clock)
    issued = ca.identities(MESH)

    assert all(issued[name] != old[name] for name in MESH)
    root = x509.load_pem_x509_certificate((tmp_path / "new" / "ca.pem").read_bytes())
    for identity in issued.values():
        x509.load_pem_x509_certificate(
            identity.certificate_chain.encode()
        ).verify_directly_issued_by(root)


@pytest.mark.parametrize("missing", ["ca.pem", "ca.key"])
def test_half_a_ca_is_refused(tmp_path, clock, missing):
    CertificateAuthority.load(tmp_path / "ca", clock=clock)
    (tmp_path / "ca" / missing).unlink()

    with pytest.raises(CertificateAuthorityError) as caught:
        CertificateAuthority.load(tmp_path / "ca", clock=clock)

    assert caught.value.code is ErrorCode.MTLS_CONFIGURATION_FAILED
    assert missing in caught.value.message


def test_a_key_that_is_not_the_cas_is_refused(tmp_path, clock):
    CertificateAuthority.load(tmp_path / "a", clock=clock)
    CertificateAuthority.load(tmp_path / "b", clock=clock)
    (tmp_path / "a" / "ca.key").write_bytes((tmp_path / "b" / "ca.key").read_bytes())

    with pytest.raises(CertificateAuthorityError, match="is not the key of"):
        CertificateAuthority.load(tmp_path / "a", clock=clock)


def test_an_expired_ca_is_refused(tmp_path, clock):
    CertificateAuthority.load(tmp_path / "ca", clock=clock)
    clock.advance(days=3653)

    with pytest.raises(CertificateAuthorityError, match="expired"):
        CertificateAuthority.load(tmp_path / "ca", clock=clock)


def test_an_ephemeral_ca_writes_nothing(tmp_path, clock, monkeypatch):
    monkeypatch.chdir(tmp_path)

    CertificateAuthority.ephemeral(clock=clock).identities(MESH)

    assert list(tmp_path.iterdir()) == []


def test_no_key_reaches_the_log(tmp_path, clock, caplog):
    caplog.set_level(logging.DEBUG)
    ca = CertificateAuthority.load(tmp_path / "ca", clock=clock)
    ca.identities(MESH)
    (tmp_path / "ca" / "identities.json").write_text("[]")
    (tmp_path / "ca" / "ca.key").chmod(0o644)
    CertificateAuthority.load(tmp_path / "ca", clock=clock).identities(MESH)

    assert caplog.records, "the CA logs what it does"
    assert not any("PRIVATE KEY" in r.getMessage() for r in caplog.records)
    assert any("readable by other users" in r.getMessage() for r in caplog.records)
