"""A node receives the SDS secrets only when something it runs uses them: its own sidecar
has mesh mTLS on (the inbound side), or a destination it reaches has (the outbound side)."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from lucid.translators.node import IDENTITY_SECRET, TRUST_SECRET, Node
from lucid.translators.secrets import secrets
from lucid.translators.state import Identity
from tests.builders import instance, routing, sidecar_for

MTLS_ON = {"mTLS": {"enabled": True}}
MTLS_OFF = {"mTLS": {"enabled": False}}
GATEWAY = Node(id="gw", service="api-gateway", app_port=8081, inbound_port=8080)
CHAIN = Node(id="chain", service="blockchain-core", app_port=8081, inbound_port=8080)


def secured(state):
    identities = {name: Identity(f"CERT {name}", f"KEY {name}") for name in state.services}
    return dataclasses.replace(
        state, identities=MappingProxyType(identities), trust_bundle="BUNDLE"
    )


def two_services(mesh, gateway_security=None, chain_security=None):
    sidecars = [sidecar_for(1, routing=routing(defaultRoute="blockchain-core"))]
    if gateway_security is not None:
        sidecars[0]["security"] = gateway_security
    if chain_security is not None:
        sidecars.append(sidecar_for(2, security=chain_security))
    return secured(
        mesh(
            [instance("api-gateway", 1, plane="ops"), instance("blockchain-core", 2)],
            sidecars,
        )
    )


def names(found):
    return [secret.name for secret in found]


def test_no_mtls_anywhere_means_no_secrets(mesh):
    state = two_services(mesh)

    assert names(secrets(state, GATEWAY)) == []
    assert names(secrets(state, CHAIN)) == []


def test_a_node_whose_own_sidecar_has_mtls_gets_both_secrets(mesh):
    state = two_services(mesh, chain_security=MTLS_ON)

    assert names(secrets(state, CHAIN)) == [IDENTITY_SECRET, TRUST_SECRET]


def test_a_node_calling_a_destination_with_mtls_gets_both_secrets(mesh):
    state = two_services(mesh, chain_security=MTLS_ON)

    assert names(secrets(state, GATEWAY)) == [IDENTITY_SECRET, TRUST_SECRET]


def test_mtls_switched_off_counts_as_no_mtls(mesh):
    state = two_services(mesh, gateway_security=MTLS_OFF, chain_security=MTLS_OFF)

    assert names(secrets(state, GATEWAY)) == []
    assert names(secrets(state, CHAIN)) == []


def test_a_security_block_without_mtls_counts_as_no_mtls(mesh):
    state = two_services(
        mesh, chain_security={"authorization": {"enabled": True, "policy": "allow-all"}}
    )

    assert names(secrets(state, CHAIN)) == []


def test_secrets_are_deterministic(mesh):
    state = two_services(mesh, gateway_security=MTLS_ON, chain_security=MTLS_ON)

    first = [s.SerializeToString(deterministic=True) for s in secrets(state, GATEWAY)]
    again = [s.SerializeToString(deterministic=True) for s in secrets(state, GATEWAY)]

    assert first == again
