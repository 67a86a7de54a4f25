"""The real Envoy 1.40 (`envoy --mode validate`) accepts the destination side we generate:
inbound listener (mTLS, connection limit, jwt_authn, RBAC, local rate limit), a gateway's
edge listener, the inbound route configuration and the local, JWKS and tracing clusters.
SDS secrets become static secrets of the same names, with a throwaway certificate."""

from __future__ import annotations

import pytest

from lucid.translators import inbound
from lucid.translators.state import spiffe_id
from tests.unit.translators.destination_envoy import static_bootstrap, throwaway_identity, validate
from tests.unit.translators.every_destination_feature import NODE, every_feature


def bootstrap(state, identity):
    return static_bootstrap(
        [inbound.inbound_listener(state, NODE), inbound.edge_listener(state, NODE)],
        [inbound.inbound_route_configuration(state, NODE)],
        inbound.local_clusters(state, NODE),
        identity,
    )


@pytest.fixture(scope="module")
def identity():
    return throwaway_identity(spiffe_id("wallet", "tron-payment-service"))


@pytest.mark.parametrize("mtls", [True, False], ids=["mtls", "caller header"])
def test_envoy_validates_the_destination_side_with_every_feature(mesh, identity, tmp_path, mtls):
    state = every_feature(mesh, mtls=mtls)

    result = validate(bootstrap(state, identity), tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_catches_what_envoy_refuses(mesh, identity, tmp_path):
    """Without the secrets the TLS context names, Envoy refuses: the check is real."""
    state = every_feature(mesh)
    config = bootstrap(state, identity)
    del config["static_resources"]["secrets"]

    result = validate(config, tmp_path)

    assert result.returncode != 0
    assert "Unknown static certificate validation context: lucid-trust" in result.stderr
