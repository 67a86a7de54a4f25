"""Mesh mTLS: who has it on, and the TLS contexts that fetch their certificates over SDS.

Both ends of a call must agree on mTLS, and three translators need the answer: clusters
(the caller's UpstreamTlsContext), the inbound listener (the destination's
DownstreamTlsContext) and secrets (which node needs certificates at all). So the rule
lives here, once: a service has mesh mTLS when its sidecar configuration's
`security.mTLS.enabled` is true (`MeshState.sidecar_of_service`).

Certificates never travel inline in a cluster or listener: contexts name the SDS secrets
`IDENTITY_SECRET` and `TRUST_SECRET` over ADS. The names are the same on every node and
each node receives its own content (its service's certificate), so a destination's
cluster is still built once and shared by every caller. A caller checks that the peer's
certificate carries the destination's SPIFFE id as URI SAN: one exact matcher per plane
the destination has instances in.
"""

from __future__ import annotations

import functools

from envoy.config.core.v3 import base_pb2
from envoy.extensions.transport_sockets.tls.v3 import common_pb2, secret_pb2, tls_pb2
from envoy.type.matcher.v3 import string_pb2

from lucid.models.config import MTLSConfig
from lucid.translators.messages import ads_config_source, pack
from lucid.translators.node import IDENTITY_SECRET, TRUST_SECRET
from lucid.translators.state import MeshState, Service, spiffe_id

TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls"
MESH_DOMAIN = ".lucid.onion"


def mtls_of(state: MeshState, service: str) -> MTLSConfig | None:
    """The service's mTLS configuration when mesh mTLS is on for it, else None."""
    sidecar = state.sidecar_of_service(service)
    security = sidecar.security if sidecar is not None else None
    config = security.mTLS if security is not None else None
    return config if config is not None and config.enabled else None


def data_source(value: str) -> base_pb2.DataSource:
    """PEM given inline stays inline; anything else is a file path on the proxy's host."""
    if value.lstrip().startswith("-----BEGIN"):
        return base_pb2.DataSource(inline_string=value)
    return base_pb2.DataSource(filename=value)


@functools.cache
def sds(name: str) -> secret_pb2.SdsSecretConfig:
    """A reference to the SDS secret `name`, fetched over the node's ADS stream (built
    once; callers copy it)."""
    return secret_pb2.SdsSecretConfig(
        name=name,
        sds_config=ads_config_source(),
    )


def san_matchers(service: Service) -> list[common_pb2.SubjectAltNameMatcher]:
    """Exact URI SAN matchers for the service's SPIFFE ids, one per plane, sorted."""
    return [
        common_pb2.SubjectAltNameMatcher(
            san_type=common_pb2.SubjectAltNameMatcher.URI,
            matcher=string_pb2.StringMatcher(exact=spiffe_id(plane, service.name)),
        )
        for plane in sorted(service.planes)
    ]


def sds_tls_context(*, peer: Service | None = None) -> tls_pb2.CommonTlsContext:
    """Own certificate and trust bundle from SDS; with `peer`, its SPIFFE ids are required."""
    common = tls_pb2.CommonTlsContext(tls_certificate_sds_secret_configs=[sds(IDENTITY_SECRET)])
    if peer is None:
        common.validation_context_sds_secret_config.CopyFrom(sds(TRUST_SECRET))
    else:
        combined = common.combined_validation_context
        combined.default_validation_context.match_typed_subject_alt_names.extend(san_matchers(peer))
        combined.validation_context_sds_secret_config.CopyFrom(sds(TRUST_SECRET))
    return common


def upstream_mtls_socket(service: Service) -> base_pb2.TransportSocket:
    """The caller's side of mesh mTLS to `service`: SNI `<service>.lucid.onion`, the
    destination's SPIFFE id checked, ALPN h2 for gRPC."""
    context = tls_pb2.UpstreamTlsContext(sni=f"{service.name}{MESH_DOMAIN}")
    common = context.common_tls_context
    common.CopyFrom(sds_tls_context(peer=service))
    if service.primary.protocol in ("grpc", "grpcs"):
        common.alpn_protocols.append("h2")
    return base_pb2.TransportSocket(name=TLS_TRANSPORT_SOCKET, typed_config=pack(context))
