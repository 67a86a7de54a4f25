"""When the destination's sidecar has mesh mTLS on, its cluster originates mTLS: own
certificate and trust bundle from SDS over ADS (never inline, so the cluster stays the
same for every caller), the destination's SPIFFE id required as URI SAN (one matcher per
plane), SNI `<service>.lucid.onion`, ALPN h2 for gRPC. Endpoint TLS keeps its old
behaviour while mesh mTLS is off."""

from __future__ import annotations

from envoy.config.core.v3 import config_source_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, tls_pb2

from lucid.translators.clusters import cluster
from lucid.translators.mesh import Translation
from lucid.translators.node import IDENTITY_SECRET, TRUST_SECRET, Node
from lucid.translators.state import spiffe_id
from lucid.xds.resources import CLUSTER
from tests.builders import endpoint, instance, sidecar_for

MTLS_ON = {"mTLS": {"enabled": True}}


def upstream(state, name):
    built = cluster(state, state.services[name])
    assert built.transport_socket.name == "envoy.transport_sockets.tls"
    context = tls_pb2.UpstreamTlsContext()
    assert built.transport_socket.typed_config.Unpack(context)
    return context


def test_certificates_come_from_sds_over_ads(mesh):
    state = mesh([instance("blockchain-core", 1)], [sidecar_for(1, security=MTLS_ON)])

    common = upstream(state, "blockchain-core").common_tls_context

    assert not common.tls_certificates
    (identity,) = common.tls_certificate_sds_secret_configs
    assert identity.name == IDENTITY_SECRET
    assert identity.sds_config.HasField("ads")
    assert identity.sds_config.resource_api_version == config_source_pb2.V3
    trust = common.combined_validation_context.validation_context_sds_secret_config
    assert trust.name == TRUST_SECRET
    assert trust.sds_config.HasField("ads")


def test_the_peer_must_present_the_destinations_spiffe_id(mesh):
    state = mesh([instance("blockchain-core", 1)], [sidecar_for(1, security=MTLS_ON)])

    context = upstream(state, "blockchain-core")

    default = context.common_tls_context.combined_validation_context.default_validation_context
    (matcher,) = default.match_typed_subject_alt_names
    assert matcher.san_type == common_pb2.SubjectAltNameMatcher.URI
    assert matcher.matcher.exact == spiffe_id("chain", "blockchain-core")
    assert context.sni == "blockchain-core.lucid.onion"


def test_a_service_in_several_planes_gets_one_matcher_per_plane(mesh):
    state = mesh(
        [
            instance("blockchain-core", 1, plane="wallet"),
            instance("blockchain-core", 2, plane="chain"),
        ],
        [sidecar_for(1, security=MTLS_ON)],
    )

    default = upstream(
        state, "blockchain-core"
    ).common_tls_context.combined_validation_context.default_validation_context

    assert [m.matcher.exact for m in default.match_typed_subject_alt_names] == [
        spiffe_id("chain", "blockchain-core"),
        spiffe_id("wallet", "blockchain-core"),
    ]


def test_grpc_negotiates_h2_and_http_negotiates_nothing(mesh):
    grpc = instance("chain-grpc", 1, endpoint=endpoint(host="10.0.0.1", protocol="grpc"))
    http = instance("session-recorder", 2)
    state = mesh([grpc, http], [sidecar_for(1, security=MTLS_ON), sidecar_for(2, security=MTLS_ON)])

    assert list(upstream(state, "chain-grpc").common_tls_context.alpn_protocols) == ["h2"]
    assert list(upstream(state, "session-recorder").common_tls_context.alpn_protocols) == []


def test_mesh_mtls_replaces_endpoint_tls(mesh):
    tls = {"enabled": True, "certAuthority": "/etc/ssl/ca.pem"}
    payments = instance(
        "tron-payment-service", 1, endpoint=endpoint(host="10.0.0.1", protocol="https", tls=tls)
    )
    state = mesh([payments], [sidecar_for(1, security=MTLS_ON)])

    context = upstream(state, "tron-payment-service")

    assert context.sni == "tron-payment-service.lucid.onion"
    assert not context.common_tls_context.HasField("validation_context")
    assert context.common_tls_context.HasField("combined_validation_context")


def test_endpoint_tls_is_unchanged_while_mesh_mtls_is_off(mesh):
    tls = {"enabled": True, "certAuthority": "/etc/ssl/ca.pem"}
    payments = instance(
        "tron-payment-service",
        1,
        endpoint=endpoint(host="pay.lucid.onion", protocol="https", tls=tls),
    )
    state = mesh([payments], [sidecar_for(1, security={"mTLS": {"enabled": False}})])

    context = upstream(state, "tron-payment-service")

    assert context.sni == "pay.lucid.onion"
    assert context.common_tls_context.validation_context.trusted_ca.filename == "/etc/ssl/ca.pem"
    assert not context.common_tls_context.tls_certificate_sds_secret_configs


def test_plain_http_without_mesh_mtls_has_no_transport_socket(mesh):
    state = mesh([instance("session-recorder", 1)], [sidecar_for(1)])

    assert not cluster(state, state.services["session-recorder"]).HasField("transport_socket")


def test_every_caller_shares_the_one_mtls_cluster(mesh):
    state = mesh(
        [
            instance("api-gateway", 1, plane="ops"),
            instance("session-recorder", 2, plane="ops"),
            instance("blockchain-core", 3),
        ],
        [sidecar_for(3, security=MTLS_ON)],
    )
    translation = Translation(state)
    views = [
        translation.node(Node(id=name, service=name, app_port=9001, inbound_port=9000))
        for name in ("api-gateway", "session-recorder")
    ]

    found = [view.resources[CLUSTER]["outbound|blockchain-core"] for view in views]

    assert found[0] is found[1]
