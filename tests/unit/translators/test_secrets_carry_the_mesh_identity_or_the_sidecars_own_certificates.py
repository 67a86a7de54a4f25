"""IDENTITY_SECRET holds the node's service identity issued by the mesh CA, unless its
sidecar names its own clientCert/clientKey (inline PEM stays inline, anything else is a
file on the proxy's host); TRUST_SECRET holds the mesh bundle unless the sidecar names its
own certAuthority. Each node gets its own service's content under the shared names."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from lucid.translators.consistency import InconsistentResources
from lucid.translators.mesh import Translation, check_consistency
from lucid.translators.node import IDENTITY_SECRET, TRUST_SECRET, Node
from lucid.translators.secrets import secrets
from lucid.translators.state import Identity
from tests.builders import instance, sidecar_for

PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
NODE = Node(id="chain-1", service="blockchain-core", app_port=8085, inbound_port=8084)


def state_with(mesh, mtls, identities=True, bundle="MESH BUNDLE"):
    state = mesh(
        [instance("blockchain-core", 1), instance("api-gateway", 2, plane="ops")],
        [sidecar_for(1, security={"mTLS": mtls})],
    )
    issued = {n: Identity(f"CERT {n}", f"KEY {n}") for n in state.services} if identities else {}
    return dataclasses.replace(state, identities=MappingProxyType(issued), trust_bundle=bundle)


def by_name(state, node=NODE):
    return {secret.name: secret for secret in secrets(state, node)}


def test_the_identity_is_the_services_certificate_from_the_mesh_ca(mesh):
    found = by_name(state_with(mesh, {"enabled": True}))

    certificate = found[IDENTITY_SECRET].tls_certificate
    assert certificate.certificate_chain.inline_string == "CERT blockchain-core"
    assert certificate.private_key.inline_string == "KEY blockchain-core"
    trust = found[TRUST_SECRET].validation_context
    assert trust.trusted_ca.inline_string == "MESH BUNDLE"


def test_each_node_gets_its_own_service_under_the_same_names(mesh):
    state = state_with(mesh, {"enabled": True})
    gateway = Node(id="gw", service="api-gateway", app_port=8081, inbound_port=8080)

    found = by_name(state, gateway)

    assert found[IDENTITY_SECRET].tls_certificate.certificate_chain.inline_string == (
        "CERT api-gateway"
    )


def test_inline_pem_from_the_sidecar_replaces_the_mesh_identity_and_bundle(mesh):
    mtls = {
        "enabled": True,
        "clientCert": PEM_CERT,
        "clientKey": PEM_KEY,
        "certAuthority": PEM_CERT,
    }

    found = by_name(state_with(mesh, mtls))

    certificate = found[IDENTITY_SECRET].tls_certificate
    assert certificate.certificate_chain.inline_string == PEM_CERT
    assert certificate.private_key.inline_string == PEM_KEY
    assert found[TRUST_SECRET].validation_context.trusted_ca.inline_string == PEM_CERT


def test_paths_from_the_sidecar_are_files_on_the_proxys_host(mesh):
    mtls = {
        "enabled": True,
        "clientCert": "/etc/lucid/tls/cert.pem",
        "clientKey": "/etc/lucid/tls/key.pem",
        "certAuthority": "/etc/lucid/tls/ca.pem",
    }

    found = by_name(state_with(mesh, mtls))

    certificate = found[IDENTITY_SECRET].tls_certificate
    assert certificate.certificate_chain.filename == "/etc/lucid/tls/cert.pem"
    assert certificate.private_key.filename == "/etc/lucid/tls/key.pem"
    assert found[TRUST_SECRET].validation_context.trusted_ca.filename == "/etc/lucid/tls/ca.pem"


def test_an_own_ca_with_the_mesh_identity(mesh):
    found = by_name(state_with(mesh, {"enabled": True, "certAuthority": "/etc/ca.pem"}))

    assert found[IDENTITY_SECRET].tls_certificate.private_key.inline_string == (
        "KEY blockchain-core"
    )
    assert found[TRUST_SECRET].validation_context.trusted_ca.filename == "/etc/ca.pem"


def test_without_an_issued_identity_the_secret_is_missing_and_the_view_is_refused(mesh):
    state = state_with(mesh, {"enabled": True}, identities=False, bundle=None)

    assert by_name(state) == {}
    translation = Translation(state)
    resources = translation.node(
        Node(id="gw", service="api-gateway", app_port=8081, inbound_port=8080)
    )
    with pytest.raises(InconsistentResources, match=IDENTITY_SECRET):
        check_consistency(resources)
