"""The mesh certificate authority: one CA key, and a short-lived certificate per service.

Mesh mTLS needs every sidecar to present a certificate naming its service and to trust
the others'. This module is the one place that holds private keys: it loads the CA from
`<data_dir>/ca` (or creates it: ECDSA P-256, self-signed, ten years), issues workload
certificates whose URI SAN is the service's SPIFFE id (`translators.state.spiffe_id`)
and whose DNS SANs are `<service>` and `<service>.lucid.onion`, valid 24 hours, and hands
them to `MeshState` as `Identity` values, which the SDS translator sends to each node.

Issued identities are cached in memory and in `<dir>/identities.json`, so a restart does
not change every secret's version (and with it every proxy's TLS contexts); `identities`
renews a certificate once less than a third of its life is left, or when its plane or the
CA changed. Files are written atomically with mode 0600 in a 0700 directory. Keys never
reach a log line. An `ephemeral` CA lives in memory only (`lucid render`, tests).

The control plane has an identity of its own for the registry's health checks:
`health_checker` issues a client certificate whose only SAN is the URI
`node.HEALTH_CHECKER_ID` (no `plane/`, so plane rules never take it for a service), with
the same lifetime and renewal rule, kept in memory only (a restart issues a new one;
no proxy configuration depends on it). Each destination's access rules let it make that
service's health-check requests and nothing else (`translators.health_access`).

The clock is injected so renewal is tested without waiting.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lucid.errors import ErrorCode, LucidError
from lucid.translators.mtls import MESH_DOMAIN
from lucid.translators.node import HEALTH_CHECKER_ID
from lucid.translators.state import Identity, spiffe_id

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

CA_LIFETIME = timedelta(days=3652)
WORKLOAD_LIFETIME = timedelta(hours=24)
# Certificates start a little in the past, so a peer whose clock lags still accepts them.
BACKDATE = timedelta(minutes=5)
CA_CERT_FILE, CA_KEY_FILE, IDENTITIES_FILE = "ca.pem", "ca.key", "identities.json"


class CertificateAuthorityError(LucidError):
    """The CA directory cannot be read or written, or holds an unusable CA."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.MTLS_CONFIGURATION_FAILED, message)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@dataclass(frozen=True)
class _Issued:
    plane: str
    identity: Identity
    certificate: x509.Certificate


class CertificateAuthority:
    """Issues and caches workload identities; `load` for a directory, `ephemeral` for none."""

    def __init__(
        self,
        certificate: x509.Certificate,
        key: ec.EllipticCurvePrivateKey,
        *,
        directory: Path | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self._certificate = certificate
        self._key = key
        self._directory = directory
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, _Issued] = {}
        self._health_checker: _Issued | None = None
        if directory is not None:
            self._issued = self._read_issued(directory / IDENTITIES_FILE)

    @classmethod
    def ephemeral(cls, *, clock: Clock = _utcnow) -> CertificateAuthority:
        """A CA that lives in memory only: nothing is read or written."""
        certificate, key = _new_ca(clock())
        return cls(certificate, key, clock=clock)

    @classmethod
    def load(cls, directory: Path, *, clock: Clock = _utcnow) -> CertificateAuthority:
        """The CA in `directory` (ca.pem, ca.key), created there on first use."""
        cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
        try:
            _private_directory(directory)
            if not cert_path.exists() and not key_path.exists():
                certificate, key = _new_ca(clock())
                _write_private(key_path, _key_pem(key))
                _write_private(cert_path, _pem(certificate))
                log.info("created a new mesh CA in %s", directory)
            else:
                certificate, key = _read_ca(cert_path, key_path)
        except OSError as exc:
            raise CertificateAuthorityError(
                f"cannot use the CA directory {directory}: {exc}"
            ) from exc
        if certificate.not_valid_after_utc <= clock():
            raise CertificateAuthorityError(
                f"the mesh CA in {cert_path} expired on {certificate.not_valid_after_utc:%Y-%m-%d};"
                " move the directory away to create a new CA (every sidecar then reconnects)"
            )
        return cls(certificate, key, directory=directory, clock=clock)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def trust_bundle(self) -> str:
        """The PEM bundle that verifies every identity this CA issues."""
        return _pem(self._certificate)

    def issue(self, service: str, plane: str) -> Identity:
        """The identity of `service` in `plane`: the cached one while still fresh, else new."""
        with self._lock:
            identity, changed = self._current(service, plane, self._clock())
            if changed:
                self._save()
            return identity

    def identities(self, services: Mapping[str, str]) -> dict[str, Identity]:
        """An identity per service name (service → plane), sorted by name.

        Certificates with less than a third of their life left are renewed; services not
        named are forgotten (their keys leave the disk too), so the cache follows the mesh.
        """
        with self._lock:
            now = self._clock()
            gone = set(self._issued) - set(services)
            for name in gone:
                del self._issued[name]
            changed = bool(gone)
            result: dict[str, Identity] = {}
            for name in sorted(services):
                result[name], renewed = self._current(name, services[name], now)
                changed = changed or renewed
            if changed:
                self._save()
            return result

    def health_checker(self) -> Identity:
        """The health checker's client identity (URI SAN `HEALTH_CHECKER_ID`): the same one
        while more than a third of its life is left, else a new one."""
        with self._lock:
            now = self._clock()
            found = self._health_checker
            if found is not None:
                start, end = (
                    found.certificate.not_valid_before_utc,
                    found.certificate.not_valid_after_utc,
                )
                if start <= now and (end - now) * 3 >= end - start:
                    return found.identity
            identity, certificate = self._sign(
                "health-checker",
                [x509.UniformResourceIdentifier(HEALTH_CHECKER_ID)],
                [ExtendedKeyUsageOID.CLIENT_AUTH],
                now,
            )
            self._health_checker = _Issued(plane="", identity=identity, certificate=certificate)
            return identity

    # -- internals --------------------------------------------------------------------------

    def _current(self, service: str, plane: str, now: datetime) -> tuple[Identity, bool]:
        found = self._issued.get(service)
        if found is not None and found.plane == plane and self._fresh(found.certificate, now):
            return found.identity, False
        issued = self._issue(service, plane, now)
        self._issued[service] = issued
        return issued.identity, True

    def _fresh(self, certificate: x509.Certificate, now: datetime) -> bool:
        """Signed by this CA, already valid, and more than a third of its life left."""
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        if not start <= now or (end - now) * 3 < end - start:
            return False
        try:
            certificate.verify_directly_issued_by(self._certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def _issue(self, service: str, plane: str, now: datetime) -> _Issued:
        names: list[x509.GeneralName] = [
            x509.UniformResourceIdentifier(spiffe_id(plane, service)),
            x509.DNSName(service),
            x509.DNSName(service + MESH_DOMAIN),
        ]
        usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        identity, certificate = self._sign(service, names, usages, now)
        return _Issued(plane=plane, identity=identity, certificate=certificate)

    def _sign(
        self,
        common_name: str,
        names: list[x509.GeneralName],
        usages: list[x509.ObjectIdentifier],
        now: datetime,
    ) -> tuple[Identity, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        ca_key_id = x509.SubjectKeyIdentifier.from_public_key(self._key.public_key())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lucid Mesh"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now - BACKDATE + WORKLOAD_LIFETIME)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(certificate_signing=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return Identity(_pem(certificate), _key_pem(key)), certificate

    def _save(self) -> None:
        if self._directory is None:
            return
        data = {
            name: {
                "plane": issued.plane,
                "certificate": issued.identity.certificate_chain,
                "key": issued.identity.private_key,
            }
            for name, issued in sorted(self._issued.items())
        }
        path = self._directory / IDENTITIES_FILE
        try:
            _write_private(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        except OSError as exc:
            raise CertificateAuthorityError(f"cannot write {path}: {exc}") from exc

    def _read_issued(self, path: Path) -> dict[str, _Issued]:
        """Identities saved by an earlier run; an unreadable entry is dropped (re-issued)."""
        try:
            raw: Any = json.loads(path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring the issued identities in %s (%s); issuing new ones", path, exc)
            return {}
        issued: dict[str, _Issued] = {}
        for name, entry in raw.items() if isinstance(raw, dict) else ():
            try:
                certificate = x509.load_pem_x509_certificate(entry["certificate"].encode())
                key = serialization.load_pem_private_key(entry["key"].encode(), password=None)
                if _public_bytes(key.public_key()) != _public_bytes(certificate.public_key()):
                    raise ValueError("the key does not match the certificate")
                identity = Identity(
                    certificate_chain=entry["certificate"], private_key=entry["key"]
                )
                issued[name] = _Issued(str(entry["plane"]), identity, certificate)
            except (KeyError, TypeError, ValueError, AttributeError):
                log.warning("ignoring the saved identity of %s in %s", name, path)
        return issued


def _key_usage(*, certificate_signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not certificate_signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificate_signing,
        crl_sign=certificate_signing,
        encipher_only=False,
        decipher_only=False,
    )


def _new_ca(now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lucid Mesh"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Lucid Mesh CA"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now - BACKDATE + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(certificate_signing=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _read_ca(
    cert_path: Path, key_path: Path
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    for path in (cert_path, key_path):
        if not path.exists():
            raise CertificateAuthorityError(
                f"{path} is missing but its pair is there; restore it, or move the directory "
                "away to create a new CA"
            )
    if key_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the CA key %s is readable by other users; chmod 600 it", key_path)
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateAuthorityError(f"cannot read the mesh CA in {cert_path.parent}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _public_bytes(
        key.public_key()
    ) != _public_bytes(certificate.public_key()):
        raise CertificateAuthorityError(f"{key_path} is not the key of {cert_path}")
    return certificate, key


def _public_bytes(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _private_directory(directory: Path) -> None:
    if directory.exists():
        if directory.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("the CA directory %s is open to other users; chmod 700 it", directory)
        return
    directory.mkdir(parents=True, mode=0o700)
    directory.chmod(0o700)  # mkdir's mode is filtered by the umask


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a 0600 temporary file renamed over it)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
