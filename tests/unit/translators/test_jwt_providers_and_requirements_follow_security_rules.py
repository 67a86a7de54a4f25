"""jwt_authn on the generated protobuf: one provider per distinct jwt block (issuer,
audience, key source), payload in metadata under the provider's name, remote key sets
through a jwks cluster (the issuer's well-known URL by default), inline key sets inline;
requirement rules in the access-rule order, ending with "verify a token if present"."""

from __future__ import annotations

from envoy.extensions.filters.http.jwt_authn.v3 import config_pb2 as jwt_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)

from lucid.translators import inbound
from tests.unit.translators.every_destination_feature import INLINE_JWKS, NODE, every_feature


def jwt_config(mesh) -> jwt_pb2.JwtAuthentication:
    listener = inbound.inbound_listener(every_feature(mesh), NODE)
    manager = hcm_pb2.HttpConnectionManager()
    listener.filter_chains[0].filters[-1].typed_config.Unpack(manager)
    config = jwt_pb2.JwtAuthentication()
    manager.http_filters[0].typed_config.Unpack(config)
    return config


def by_issuer(config):
    return {p.issuer: (name, p) for name, p in config.providers.items()}


def test_a_remote_provider_fetches_the_issuers_well_known_key_set(mesh):
    name, provider = by_issuer(jwt_config(mesh))["https://auth.lucid.onion"]

    assert list(provider.audiences) == ["payments"]
    assert provider.remote_jwks.http_uri.uri == "https://auth.lucid.onion/.well-known/jwks.json"
    assert provider.remote_jwks.http_uri.cluster == "jwks|auth.lucid.onion:443"
    assert provider.payload_in_metadata == name
    assert provider.forward is True


def test_an_inline_key_set_stays_inline(mesh):
    _, provider = by_issuer(jwt_config(mesh))["lucid-internal"]

    assert provider.local_jwks.inline_string == INLINE_JWKS
    assert not provider.HasField("remote_jwks")


def test_requirements_follow_the_rule_order_and_end_lenient(mesh):
    config = jwt_config(mesh)
    remote, _ = by_issuer(config)["https://auth.lucid.onion"]

    health, first = config.rules[0], config.rules[1]  # the health checker's request first
    assert health.match.path == "/health"
    assert first.match.prefix == "/api/"
    headers = {h.name: h.string_match.exact for h in first.match.headers}
    assert headers == {":method": "POST", "x-lucid-source": "api-gateway"}
    assert first.requires.provider_name == remote
    last = config.rules[-1]
    assert last.match.prefix == "/"
    options = last.requires.requires_any.requirements
    assert options[-1].HasField("allow_missing")
    assert sorted(o.provider_name for o in options[:-1]) == sorted(config.providers)


def test_a_method_that_is_not_jwt_keeps_the_token_optional_for_jwt_authn(mesh):
    """jwt or api-key under /batch/*: a missing token may be fine (the key decides in RBAC)."""
    config = jwt_config(mesh)

    assert not [r for r in config.rules if r.match.prefix == "/batch/"]
