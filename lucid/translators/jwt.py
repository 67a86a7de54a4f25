"""jwt_authn: the JWT providers of a destination, where tokens are required, and JWKS clusters.

Providers come from the `authentication.jwt` blocks of security rules targeting the
service (`access.provider_of`): issuer, audience (→ `audiences`), and the key set from the
Lucid extensions `jwksUri` (remote, through a `jwks|<host>:<port>` cluster, TLS checked
against the system CA bundle for https) or `jwks` (inline); with neither, the issuer's
`<issuer>/.well-known/jwks.json`. Each verified payload is written to dynamic metadata
under the provider's name (`payload_in_metadata`), where the RBAC filter checks
`requiredClaims` and roles (claim `roles`: a list of strings, or one string) → 403.
The token stays in the request for the app (`forward`).

Where a token is *required* (401 when missing or invalid) is jwt_authn's first-match rule
list, built in the same order as the access rules: a require-auth rule whose methods are
all jwt/oauth2 (or a require-role rule) requires its providers on the requests it scopes
(path, method, headers, query; the caller by the `x-lucid-source` header); the deciding
rules before it are listed as "verify if present", so a request an earlier rule decides
never gets a 401 from a later one; the last rule verifies any token present (a bad token
is a 401 everywhere, as with Istio's RequestAuthentication; Envoy answers a token for
another audience with 403). RBAC stays authoritative: a
rule whose scope cannot be expressed as a route match (the caller's certificate) is
still enforced there, with a 403.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from typing import Final
from urllib.parse import urlsplit

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, base_pb2, http_uri_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.route.v3 import route_components_pb2
from envoy.extensions.filters.http.jwt_authn.v3 import config_pb2 as jwt_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from envoy.type.matcher.v3 import regex_pb2, string_pb2
from google.protobuf import empty_pb2

from lucid.translators.access import Access, AccessRule, JwtProvider, RequestMatch
from lucid.translators.clusters import duration_ms
from lucid.translators.health_access import HEALTH_CHECKER_HEADERS
from lucid.translators.messages import pack
from lucid.translators.mtls import TLS_TRANSPORT_SOCKET
from lucid.translators.node import SOURCE_HEADER
from lucid.translators.rbac import Caller, path_string_matcher
from lucid.translators.route_match import names_regex

JWT_FILTER: Final = "envoy.filters.http.jwt_authn"
JWKS_CLUSTER_PREFIX: Final = "jwks|"
SYSTEM_CA_BUNDLE: Final = "/etc/ssl/certs/ca-certificates.crt"
JWKS_CACHE_MS: Final = 600_000
JWKS_FETCH_TIMEOUT_MS: Final = 5_000
# Where no key source can be found (an issuer that is not a URL): no token verifies.
NO_KEYS: Final = '{"keys":[]}'


def jwks_uri(provider: JwtProvider) -> str | None:
    if provider.jwks_uri:
        return provider.jwks_uri
    if re.match(r"^https?://", provider.issuer):
        return provider.issuer.rstrip("/") + "/.well-known/jwks.json"
    return None


def _host_port(uri: str) -> tuple[str, int, bool]:
    parts = urlsplit(uri)
    tls = parts.scheme == "https"
    return parts.hostname or "", parts.port or (443 if tls else 80), tls


def jwks_cluster_name(uri: str) -> str:
    host, port, _ = _host_port(uri)
    return f"{JWKS_CLUSTER_PREFIX}{host}:{port}"


def _provider(provider: JwtProvider) -> jwt_pb2.JwtProvider:
    result = jwt_pb2.JwtProvider(
        issuer=provider.issuer,
        forward=True,
        payload_in_metadata=provider.name,
    )
    if provider.audience:
        result.audiences.append(provider.audience)
    uri = None if provider.jwks else jwks_uri(provider)
    if uri is not None:
        remote = result.remote_jwks
        remote.http_uri.CopyFrom(
            http_uri_pb2.HttpUri(
                uri=uri, cluster=jwks_cluster_name(uri), timeout=duration_ms(JWKS_FETCH_TIMEOUT_MS)
            )
        )
        remote.cache_duration.CopyFrom(duration_ms(JWKS_CACHE_MS))
    else:
        result.local_jwks.inline_string = provider.jwks or NO_KEYS
    return result


def jwks_clusters(access: Access) -> list[cluster_pb2.Cluster]:
    """One STRICT_DNS cluster per remote key-set host (TLS for https), sorted by name."""
    found: dict[str, cluster_pb2.Cluster] = {}
    for provider in access.providers:
        uri = None if provider.jwks else jwks_uri(provider)
        if uri is None:
            continue
        name = jwks_cluster_name(uri)
        host, port, tls = _host_port(uri)
        address = address_pb2.Address(
            socket_address=address_pb2.SocketAddress(address=host, port_value=port)
        )
        cluster = cluster_pb2.Cluster(
            name=name,
            type=cluster_pb2.Cluster.STRICT_DNS,
            connect_timeout=duration_ms(JWKS_FETCH_TIMEOUT_MS),
            load_assignment=endpoint_pb2.ClusterLoadAssignment(
                cluster_name=name,
                endpoints=[
                    endpoint_components_pb2.LocalityLbEndpoints(
                        lb_endpoints=[
                            endpoint_components_pb2.LbEndpoint(
                                endpoint=endpoint_components_pb2.Endpoint(address=address)
                            )
                        ]
                    )
                ],
            ),
        )
        if tls:
            context = tls_pb2.UpstreamTlsContext(sni=host)
            context.common_tls_context.validation_context.trusted_ca.filename = SYSTEM_CA_BUNDLE
            cluster.transport_socket.CopyFrom(
                base_pb2.TransportSocket(name=TLS_TRANSPORT_SOCKET, typed_config=pack(context))
            )
        found[name] = cluster
    return [found[name] for name in sorted(found)]


# -- where tokens are required ------------------------------------------------------------


def path_regex(path: str) -> str:
    """A `:path` (query included) regex for `/exact`, `/prefix/*` or `regex:<RE2>`."""
    if path.startswith("regex:"):
        return f"(?:{path[len('regex:') :]})(\\?.*)?"
    if path.endswith("*"):
        return f"{re.escape(path[:-1])}.*"
    return f"{re.escape(path)}(\\?.*)?"


def _header(name: str, matcher: string_pb2.StringMatcher) -> route_components_pb2.HeaderMatcher:
    return route_components_pb2.HeaderMatcher(name=name, string_match=matcher)


def route_match(
    request: RequestMatch,
    sources: frozenset[str] | None,
    extra_paths: Sequence[str] = (),
    extra_methods: Sequence[str] = (),
) -> route_components_pb2.RouteMatch:
    """A RouteMatch for a rule's scope; the caller is matched by its `x-lucid-source`."""
    paths = [*request.paths, *extra_paths]
    match = route_components_pb2.RouteMatch()
    first = path_string_matcher(paths[0]) if paths else string_pb2.StringMatcher(prefix="/")
    kind = first.WhichOneof("match_pattern")
    if kind == "exact":
        match.path = first.exact
    elif kind == "prefix":
        match.prefix = first.prefix
    else:
        match.safe_regex.CopyFrom(first.safe_regex)
    for path in paths[1:]:
        regex = regex_pb2.RegexMatcher(regex=path_regex(path))
        match.headers.append(_header(":path", string_pb2.StringMatcher(safe_regex=regex)))
    for method in [*request.methods, *extra_methods]:
        match.headers.append(_header(":method", string_pb2.StringMatcher(exact=method)))
    for name, value in request.headers:
        match.headers.append(_header(name.lower(), string_pb2.StringMatcher(exact=value)))
    for name, value in request.query:
        match.query_parameters.append(
            route_components_pb2.QueryParameterMatcher(
                name=name, string_match=string_pb2.StringMatcher(exact=value)
            )
        )
    if sources is not None:
        source = (
            string_pb2.StringMatcher(exact=next(iter(sources)))
            if len(sources) == 1
            else string_pb2.StringMatcher(
                safe_regex=regex_pb2.RegexMatcher(regex=names_regex(sources))
            )
        )
        match.headers.append(_header(SOURCE_HEADER, source))
    return match


def _scopes(rule: AccessRule, caller: Caller) -> Iterator[route_components_pb2.RouteMatch]:
    """Route matches covering a rule's scope (one per permission); none if it never applies."""
    if rule.control_plane is not None:  # health checks, from a health checker only
        if caller.mode != "external":
            for scope in _scopes(dataclasses.replace(rule, control_plane=None), caller):
                scope.headers.extend(HEALTH_CHECKER_HEADERS)
                yield scope
        return
    if rule.sources is not None and (caller.mode == "external" or not rule.sources):
        return
    if not rule.permissions:
        yield route_match(rule.request, rule.sources)
        return
    for permission in rule.permissions:
        if permission.port is not None:
            if permission.port in caller.ports:
                yield route_match(rule.request, rule.sources)
            continue
        yield route_match(
            rule.request,
            rule.sources,
            extra_paths=(permission.path,) if permission.path else (),
            extra_methods=(permission.method,) if permission.method else (),
        )


def _requirement(providers: Sequence[str], *, allow_missing: bool) -> jwt_pb2.JwtRequirement:
    if len(providers) == 1 and not allow_missing:
        return jwt_pb2.JwtRequirement(provider_name=providers[0])
    options = [jwt_pb2.JwtRequirement(provider_name=p) for p in providers]
    if allow_missing:
        options.append(jwt_pb2.JwtRequirement(allow_missing=empty_pb2.Empty()))
    return jwt_pb2.JwtRequirement(requires_any=jwt_pb2.JwtRequirementOrList(requirements=options))


def jwt_filter(access: Access, caller: Caller) -> hcm_pb2.HttpFilter | None:
    """The jwt_authn filter of a listener, or None when no provider targets the service."""
    if not access.providers:
        return None
    config = jwt_pb2.JwtAuthentication(bypass_cors_preflight=True)
    for provider in access.providers:
        config.providers[provider.name].CopyFrom(_provider(provider))
    every = [p.name for p in access.providers]
    lenient = _requirement(every, allow_missing=True)
    last_strict = max((i for i, rule in enumerate(access.rules) if rule.strict_jwt), default=-1)
    for rule in access.rules[: last_strict + 1]:
        if rule.strict_jwt:
            requires = _requirement(rule.strict_jwt, allow_missing=False)
        elif not rule.gate:
            requires = lenient
        else:
            continue
        for scope in _scopes(rule, caller):
            config.rules.append(jwt_pb2.RequirementRule(match=scope, requires=requires))
    config.rules.append(
        jwt_pb2.RequirementRule(match=route_components_pb2.RouteMatch(prefix="/"), requires=lenient)
    )
    return hcm_pb2.HttpFilter(name=JWT_FILTER, typed_config=pack(config))
