"""The endpoint protocol picks HTTP/1.1 or HTTP/2 upstream and, for https/grpcs, a TLS
transport socket with SNI (ALPN h2 for grpcs); connect and idle timeouts come from the
destination's sidecar routing; clusters are EDS over ADS unless a host is a DNS name."""

from __future__ import annotations

import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2

from lucid.translators.clusters import HTTP_PROTOCOL_OPTIONS, cluster
from tests.builders import endpoint, instance, routing, sidecar_for, timeout_config

Cluster = cluster_pb2.Cluster


def single(mesh, registration=None, sidecars=()):
    state = mesh([registration or instance("blockchain-core", 1)], sidecars=sidecars)
    return cluster(state, state.services["blockchain-core"])


def protocol_options(result):
    options = http_protocol_options_pb2.HttpProtocolOptions()
    result.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].Unpack(options)
    return options


def upstream_tls(result):
    context = tls_pb2.UpstreamTlsContext()
    assert result.transport_socket.typed_config.Unpack(context)
    return context


@pytest.mark.parametrize(
    ("protocol", "http2"), [("http", False), ("https", False), ("grpc", True), ("grpcs", True)]
)
def test_protocol_picks_http_version(mesh, protocol, http2):
    reg = instance("blockchain-core", 1, endpoint=endpoint(host="10.0.0.1", protocol=protocol))
    explicit = protocol_options(single(mesh, reg)).explicit_http_config
    assert explicit.HasField("http2_protocol_options") == http2
    assert explicit.HasField("http_protocol_options") == (not http2)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_plaintext_protocols_have_no_transport_socket(mesh, protocol):
    reg = instance("blockchain-core", 1, endpoint=endpoint(host="10.0.0.1", protocol=protocol))
    assert not single(mesh, reg).HasField("transport_socket")


def test_https_gets_tls_with_the_host_as_sni(mesh):
    reg = instance(
        "blockchain-core", 1, endpoint=endpoint(host="chain.lucid.onion", protocol="https")
    )
    context = upstream_tls(single(mesh, reg))
    assert context.sni == "chain.lucid.onion"
    assert list(context.common_tls_context.alpn_protocols) == []


def test_grpcs_on_an_ip_gets_the_mesh_name_as_sni_and_alpn_h2(mesh):
    reg = instance("blockchain-core", 1, endpoint=endpoint(host="10.0.0.1", protocol="grpcs"))
    context = upstream_tls(single(mesh, reg))
    assert context.sni == "blockchain-core.lucid.onion"
    assert list(context.common_tls_context.alpn_protocols) == ["h2"]


def test_tls_ca_and_client_certificate_are_passed_on(mesh):
    tls = {
        "enabled": True,
        "certAuthority": "/etc/lucid/ca.pem",
        "clientCert": "-----BEGIN CERTIFICATE-----\nX\n",
        "clientKey": "/etc/lucid/key.pem",
    }
    reg = instance(
        "blockchain-core", 1, endpoint=endpoint(host="10.0.0.1", protocol="https", tls=tls)
    )
    common = upstream_tls(single(mesh, reg)).common_tls_context
    assert common.validation_context.trusted_ca.filename == "/etc/lucid/ca.pem"
    (certificate,) = common.tls_certificates
    assert certificate.certificate_chain.inline_string.startswith("-----BEGIN")
    assert certificate.private_key.filename == "/etc/lucid/key.pem"


def test_connect_timeout_defaults_to_five_seconds(mesh):
    assert single(mesh).connect_timeout.ToMilliseconds() == 5000


def test_connect_and_idle_timeouts_come_from_the_destination_sidecar(mesh):
    sidecar = sidecar_for(1, routing=routing(timeout=timeout_config(connect=250, idle=90000)))
    result = single(mesh, sidecars=[sidecar])
    assert result.connect_timeout.ToMilliseconds() == 250
    idle = protocol_options(result).common_http_protocol_options.idle_timeout
    assert idle.ToMilliseconds() == 90000


def test_ip_hosts_make_an_eds_cluster_over_ads(mesh):
    result = single(mesh)
    assert result.type == Cluster.EDS
    assert result.eds_cluster_config.service_name == "outbound|blockchain-core"
    assert result.eds_cluster_config.eds_config.HasField("ads")
    assert not result.HasField("load_assignment")


def test_dns_hosts_make_a_strict_dns_cluster_with_inline_endpoints(mesh):
    reg = instance("blockchain-core", 1, endpoint=endpoint(host="chain.lucid.onion"))
    result = single(mesh, reg)
    assert result.type == Cluster.STRICT_DNS
    address = result.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
    assert address.socket_address.address == "chain.lucid.onion"
