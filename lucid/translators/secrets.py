"""SDS: the node's own certificate (`IDENTITY_SECRET`) and the bundle it trusts (`TRUST_SECRET`).

Clusters and listeners only name these two secrets (`mtls.py`); this module fills them for
one node, so a certificate rotation changes one small resource per node and nothing else.

| secret          | content                                                              |
|-----------------|----------------------------------------------------------------------|
| IDENTITY_SECRET | the sidecar's `security.mTLS.clientCert` / `clientKey` when given    |
|                 | (PEM inline or a file path on the proxy's host), else the service's  |
|                 | identity issued by the mesh CA (`MeshState.identities`)              |
| TRUST_SECRET    | the sidecar's `security.mTLS.certAuthority` when given (it replaces  |
|                 | the mesh bundle), else `MeshState.trust_bundle`                      |

A node receives them only when it uses them: its own service has mesh mTLS on (its inbound
listener terminates mTLS) or a destination it reaches does (its cluster originates it).
A secret with no content to give (no identity issued, no trust bundle) is left out, and
the consistency check then refuses the node's view rather than letting Envoy wait for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from envoy.config.core.v3 import base_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, secret_pb2

from lucid.models.config import MTLSConfig
from lucid.translators import routes
from lucid.translators.mtls import data_source, mtls_of
from lucid.translators.node import IDENTITY_SECRET, TRUST_SECRET, Node
from lucid.translators.state import MeshState


def needs_secrets(state: MeshState, node: Node) -> bool:
    """Whether the node's own service or a destination it reaches has mesh mTLS on."""
    if mtls_of(state, node.service) is not None:
        return True
    return any(
        mtls_of(state, destination) is not None
        for destination in routes.destinations(state, node.service)
        if destination in state.services
    )


def identity_secret(
    state: MeshState, service: str, own: MTLSConfig | None
) -> secret_pb2.Secret | None:
    if own is not None and own.clientCert is not None and own.clientKey is not None:
        certificate = common_pb2.TlsCertificate(
            certificate_chain=data_source(own.clientCert),
            private_key=data_source(own.clientKey),
        )
    else:
        identity = state.identities.get(service)
        if identity is None:
            return None
        certificate = common_pb2.TlsCertificate(
            certificate_chain=base_pb2.DataSource(inline_string=identity.certificate_chain),
            private_key=base_pb2.DataSource(inline_string=identity.private_key),
        )
    return secret_pb2.Secret(name=IDENTITY_SECRET, tls_certificate=certificate)


def trust_secret(state: MeshState, own: MTLSConfig | None) -> secret_pb2.Secret | None:
    if own is not None and own.certAuthority is not None:
        return _trust(data_source(own.certAuthority))
    if state.trust_bundle is None:
        return None
    # The mesh bundle: one message for every node that trusts it.
    found = state._memo.get("mesh trust secret")
    if found is None:
        found = state._memo["mesh trust secret"] = _trust(
            base_pb2.DataSource(inline_string=state.trust_bundle)
        )
    assert isinstance(found, secret_pb2.Secret)
    return found


def _trust(trusted: base_pb2.DataSource) -> secret_pb2.Secret:
    return secret_pb2.Secret(
        name=TRUST_SECRET,
        validation_context=common_pb2.CertificateValidationContext(trusted_ca=trusted),
    )


def secrets(state: MeshState, node: Node) -> Sequence[secret_pb2.Secret]:
    """The node's SDS secrets, sorted by name; none when nothing it uses needs them."""
    if not needs_secrets(state, node):
        return []
    own = mtls_of(state, node.service)
    found = (identity_secret(state, node.service, own), trust_secret(state, own))
    return sorted((s for s in found if s is not None), key=lambda s: s.name)
