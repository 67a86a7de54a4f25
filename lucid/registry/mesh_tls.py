"""Mesh mTLS for the registry's health checks: which instances sit behind a sidecar that
requires it, and what to probe them with.

An instance is registered at its sidecar's inbound listener. When the service's sidecar
configuration has `security.mTLS.enabled`, that listener asks every caller for a
certificate of the mesh CA (`translators.inbound`), so a plaintext probe can only fail.
The registry then probes it over TLS as the control plane's health checker: it presents
the CA's `health_checker` certificate (URI SAN `HEALTH_CHECKER_ID`), which each
destination's access rules allow on its own health-check requests and nothing else
(`translators.health_access`). It trusts the mesh CA only, and wants the destination's
own certificate: SNI and host name `<service>.lucid.onion`, a DNS SAN the CA issues to
that service alone (checked by the TLS library, for HTTP and gRPC), and over HTTP also a
URI SAN `spiffe://lucid.mesh/plane/<plane>/service/<service>` (`MeshTarget.accepts`).

Whether a service has mesh mTLS is the translators' own rule (`mtls.mtls_of` over a
`MeshState`): the sidecar configuration of the service's lowest serviceId that has one,
among the registrations the registry checks (expired ones are not). The registry component
feeds registrations and sidecar configurations in as the store reports them; answers are
cached per service name and dropped when one of its inputs changes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from lucid.ca import CertificateAuthority
from lucid.kinds import BY_NAME
from lucid.models import ServiceRegistration, SidecarConfiguration
from lucid.store import Record, Store
from lucid.translators.mtls import MESH_DOMAIN, mtls_of
from lucid.translators.state import TRUST_DOMAIN, Identity, build_state

log = logging.getLogger(__name__)

SIDECARS = BY_NAME["SidecarConfiguration"].collection
_PLANE_SEGMENT = re.compile(r"[^/]+")


@dataclass(frozen=True)
class MeshTarget:
    """How to probe one instance of a service that requires mesh mTLS."""

    service: str
    server_name: str  # SNI, and the DNS SAN the server's certificate must carry
    trust_bundle: str  # PEM: the mesh CA
    identity: Identity  # the health checker's certificate and key

    @property
    def credentials(self) -> tuple[str, str]:
        """What a TLS client built for this target depends on (cache key)."""
        return (self.trust_bundle, self.identity.certificate_chain)

    def accepts(self, uris: Iterable[str]) -> bool:
        """Whether one of the server's URI SANs is the service's SPIFFE id (any plane)."""
        prefix = f"spiffe://{TRUST_DOMAIN}/plane/"
        suffix = f"/service/{self.service}"
        return any(
            uri.startswith(prefix)
            and uri.endswith(suffix)
            and _PLANE_SEGMENT.fullmatch(uri[len(prefix) : -len(suffix)]) is not None
            for uri in uris
        )


class MeshTls:
    """Answers `target(registration)`; fed by `registration` and `sidecar` as things change."""

    def __init__(self, ca: CertificateAuthority) -> None:
        self._ca = ca
        self._trust_bundle = ca.trust_bundle()
        self._registrations: dict[str, ServiceRegistration] = {}
        self._members: dict[str, set[str]] = {}  # service name -> serviceIds
        self._sidecars: dict[str, SidecarConfiguration] = {}
        self._mtls: dict[str, bool] = {}  # service name -> mesh mTLS on

    def registration(self, service_id: str, registration: ServiceRegistration | None) -> None:
        """The registration of `service_id` as the registry now checks it (None: not)."""
        old = self._registrations.pop(service_id, None)
        if old is not None:
            self._members[old.serviceName].discard(service_id)
            self._mtls.pop(old.serviceName, None)
        if registration is not None:
            self._registrations[service_id] = registration
            self._members.setdefault(registration.serviceName, set()).add(service_id)
            self._mtls.pop(registration.serviceName, None)

    def sidecar(self, service_id: str, sidecar: SidecarConfiguration | None) -> None:
        """The sidecar configuration stored under `service_id` (None: deleted)."""
        if sidecar is None:
            self._sidecars.pop(service_id, None)
        else:
            self._sidecars[service_id] = sidecar
        registered = self._registrations.get(service_id)
        if registered is not None:
            self._mtls.pop(registered.serviceName, None)

    def mtls(self, registration: ServiceRegistration) -> bool:
        """Whether the sidecar in front of `registration` requires mesh mTLS."""
        name = registration.serviceName
        found = self._mtls.get(name)
        if found is None:
            ids = self._members.get(name, set()) | {registration.serviceId}
            registrations = [self._registrations.get(i, registration) for i in sorted(ids)]
            sidecars = [self._sidecars[i] for i in sorted(ids) if i in self._sidecars]
            state = build_state(registrations, sidecars)
            found = self._mtls[name] = mtls_of(state, name) is not None
        return found

    def target(self, registration: ServiceRegistration) -> MeshTarget | None:
        """How to probe `registration` with mesh mTLS, or None when it needs no TLS of ours."""
        if not self.mtls(registration):
            return None
        name = registration.serviceName
        return MeshTarget(
            service=name,
            server_name=name + MESH_DOMAIN,
            trust_bundle=self._trust_bundle,
            identity=self._ca.health_checker(),
        )


def read_sidecars(
    store: Store, keys: Iterable[str] | None = None
) -> dict[str, SidecarConfiguration | None]:
    """Sidecar configurations by serviceId: all of them, or those of `keys` (None where a
    key has none). One that no longer validates counts as none, with a warning."""
    kind = BY_NAME["SidecarConfiguration"]
    records: dict[str, Record | None]
    if keys is None:
        records = {r.key: r for r in store.list(collection=SIDECARS)}
    else:
        records = {k: store.get(collection=SIDECARS, key=k) for k in keys}
    found: dict[str, SidecarConfiguration | None] = {}
    for key, record in sorted(records.items()):
        model = None
        if record is not None:
            try:
                parsed = kind.from_document(record.document)
            except ValidationError as exc:
                log.warning(
                    "%s/%s no longer validates; probed without mTLS: %s", SIDECARS, key, exc
                )
            else:
                model = parsed if isinstance(parsed, SidecarConfiguration) else None
        found[key] = model
    return found
