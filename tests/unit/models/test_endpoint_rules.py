"""A service endpoint is a hostname or IP address, a port from 1 to 65535 and a supported
protocol, with an optional base path and TLS block (spec section 1, Endpoint Validation).

TLS is only for https/grpcs, and a client certificate comes with its key.
"""

from __future__ import annotations

import pytest

from tests.builders import endpoint, registration, with_field, without_field
from tests.unit.models.checks import parse_registration, rejected

INVALID_SERVICE_CONFIGURATION = "LUCID_ERR_1004"


def rejected_endpoint(document, *, path, value):
    return rejected(
        parse_registration,
        document,
        code=INVALID_SERVICE_CONFIGURATION,
        path=path,
        value=value,
    )


LONGEST_HOSTNAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters

INVALID_HOSTS = [
    pytest.param("-bad-.com", id="labels starting and ending with a dash"),
    pytest.param("-bad.com", id="a label starting with a dash"),
    pytest.param("bad-.com", id="a label ending with a dash"),
    pytest.param("a..b", id="an empty label"),
    pytest.param(".lucid.onion", id="a leading dot"),
    pytest.param("x" * 300, id="300 characters"),
    pytest.param(LONGEST_HOSTNAME + "d", id="254 characters"),
    pytest.param("a" * 64 + ".onion", id="a label of 64 characters"),
    pytest.param("api gateway.lucid.onion", id="a space"),
    pytest.param("api_gateway.lucid.onion", id="an underscore"),
    pytest.param("http://api-gateway.lucid.onion", id="a URL"),
    pytest.param("api-gateway.lucid.onion:8080", id="a port"),
    pytest.param("api-gateway.lucid.onion\n", id="a trailing newline"),
    pytest.param("10.0.1.300", id="an IPv4 address out of range"),
    pytest.param("10.0.1", id="an IPv4 address with three parts"),
    pytest.param("[::1]", id="an IPv6 address in brackets"),
    pytest.param("2001:db8::g", id="an IPv6 address with a g"),
    pytest.param("", id="nothing"),
]


@pytest.mark.parametrize("host", INVALID_HOSTS)
def test_a_host_that_is_neither_hostname_nor_ip_address_is_rejected(host):
    rejected_endpoint(
        with_field(registration(), "endpoint.host", host), path="endpoint.host", value=host
    )


VALID_HOSTS = [
    pytest.param("api-gateway.lucid.onion", id="api-gateway.lucid.onion"),
    pytest.param("blockchain-core.lucid.onion", id="blockchain-core.lucid.onion"),
    pytest.param("api-gateway.lucid.onion.", id="a fully qualified name"),
    pytest.param("localhost", id="one label"),
    pytest.param("API-Gateway.Lucid.Onion", id="uppercase letters"),
    pytest.param("a" * 63 + ".onion", id="a label of 63 characters"),
    pytest.param(LONGEST_HOSTNAME, id="253 characters"),
    pytest.param("10.0.1.100", id="an IPv4 address"),
    pytest.param("::1", id="the IPv6 loopback"),
    pytest.param("2001:db8::8a2e:370:7334", id="an IPv6 address"),
]


@pytest.mark.parametrize("host", VALID_HOSTS)
def test_a_hostname_or_ip_address_is_accepted_as_host(host):
    model = parse_registration(with_field(registration(), "endpoint.host", host))

    assert model.endpoint.host == host


INVALID_ENDPOINT_FIELDS = [
    pytest.param("endpoint.port", 0, id="port 0"),
    pytest.param("endpoint.port", 65536, id="port 65536"),
    pytest.param("endpoint.port", -1, id="port -1"),
    pytest.param("endpoint.port", "8080", id="port given as the string 8080"),
    pytest.param("endpoint.port", 8080.0, id="port given as a float"),
    pytest.param("endpoint.port", True, id="port given as a boolean"),
    pytest.param("endpoint.protocol", "tcp", id="protocol tcp"),
    pytest.param("endpoint.protocol", "HTTP", id="protocol in uppercase"),
    pytest.param("endpoint.protocol", "http2", id="protocol http2"),
    pytest.param("endpoint.protocol", "", id="empty protocol"),
    pytest.param("endpoint.path", "api/v1", id="path without a leading slash"),
    pytest.param("endpoint.path", "/api v1", id="path with a space"),
    pytest.param("endpoint.path", "/api/v1?debug=1", id="path with a query"),
    pytest.param("endpoint.path", "/api.v1", id="path with a dot"),
    pytest.param("endpoint.path", "", id="empty path"),
    pytest.param("endpoint.tls.enabled", "yes", id="tls enabled given as a string"),
    pytest.param("endpoint.tls.certAuthority", 1, id="tls certAuthority given as a number"),
    pytest.param("endpoint.tls.caCert", "/etc/lucid/ca.pem", id="unknown tls field"),
    pytest.param("endpoint.hostname", "api-gateway", id="unknown endpoint field"),
]


@pytest.mark.parametrize(("path", "value"), INVALID_ENDPOINT_FIELDS)
def test_an_invalid_endpoint_field_is_rejected_with_its_path(path, value):
    rejected_endpoint(with_field(registration(), path, value), path=path, value=value)


@pytest.mark.parametrize("port", [1, 8080, 8084, 8085, 65535])
def test_a_port_from_1_to_65535_is_accepted(port):
    model = parse_registration(with_field(registration(), "endpoint.port", port))

    assert model.endpoint.port == port


@pytest.mark.parametrize("protocol", ["http", "https", "grpc", "grpcs"])
def test_every_protocol_of_the_spec_is_accepted(protocol):
    model = parse_registration(with_field(registration(), "endpoint.protocol", protocol))

    assert model.endpoint.protocol == protocol


@pytest.mark.parametrize("path", ["/", "/api/v1", "/api_v1/rpc-calls"])
def test_a_base_path_of_letters_digits_slashes_dashes_and_underscores_is_accepted(path):
    model = parse_registration(with_field(registration(), "endpoint.path", path))

    assert model.endpoint.path == path


@pytest.mark.parametrize("field", ["host", "port", "protocol"])
def test_an_endpoint_without_a_required_field_is_rejected(field):
    document = registration(endpoint=without_field(endpoint(), field))

    rejected_endpoint(document, path=f"endpoint.{field}", value=None)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_tls_enabled_on_a_plaintext_protocol_is_rejected(protocol):
    document = registration(endpoint=endpoint(protocol=protocol, tls={"enabled": True}))

    error = rejected_endpoint(document, path="endpoint.tls.enabled", value=True)
    assert protocol in error.rule


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_tls_disabled_on_a_plaintext_protocol_is_accepted(protocol):
    document = registration(endpoint=endpoint(protocol=protocol, tls={"enabled": False}))

    assert parse_registration(document).endpoint.tls.enabled is False


@pytest.mark.parametrize("protocol", ["https", "grpcs"])
def test_tls_with_a_client_certificate_and_key_is_accepted_on_a_tls_protocol(protocol):
    tls = {
        "enabled": True,
        "certAuthority": "/etc/lucid/ca.pem",
        "clientCert": "/etc/lucid/api-gateway.pem",
        "clientKey": "/etc/lucid/api-gateway.key",
    }
    document = registration(endpoint=endpoint(port=8443, protocol=protocol, tls=tls))

    assert parse_registration(document).endpoint.uses_tls


def test_a_client_certificate_without_its_key_is_rejected():
    tls = {"enabled": True, "clientCert": "/etc/lucid/api-gateway.pem"}
    document = registration(endpoint=endpoint(protocol="https", tls=tls))

    rejected_endpoint(document, path="endpoint.tls.clientKey", value=None)


def test_a_client_key_without_its_certificate_is_rejected():
    tls = {"enabled": True, "clientKey": "/etc/lucid/api-gateway.key"}
    document = registration(endpoint=endpoint(protocol="https", tls=tls))

    rejected_endpoint(document, path="endpoint.tls.clientCert", value=None)
