"""The control plane's health checks, and how each destination lets exactly those through.

The registry probes every instance at its sidecar's inbound port (`lucid.registry.probes`):
the healthCheck `endpoint` with `httpCheck.method` (GET by default), or for a gRPC check
`/grpc.health.v1.Health/Check` (or the full method `grpcCheck.method` names), POST. The
destination's own rules would refuse them: mTLS asks for a mesh certificate, an RBAC that
denies by default answers 403, a rate limit counts them, a redirect sends them away.

So every destination's access rules start with one allow rule above every priority
(`access.py`, HEALTH_CHECK_PRIORITY) for exactly these requests (`health_requests`), from
the health checker only (`rbac.py` compiles the caller):

- mTLS on: the caller whose verified certificate carries `HEALTH_CHECKER_ID` (issued by the
  mesh CA, `lucid.ca`; its path has no `plane/`, so no rule naming sources, and no
  plane prefix, ever matches it);
- mTLS off: a caller sending neither `x-lucid-source` nor `x-lucid-source-plane`. The
  checker sends none; a mesh app always has both, set by its own sidecar. This is as
  strong as the header scheme itself: a client reaching the port directly can omit them,
  and then reaches the health-check requests and nothing else.

Paths are exact (`url_path` exact, the query left aside; no prefix, no regex, no `.` or
`..` segment): the rule opens no other path, and no other method. Rate-limit and redirect
routes (`ratelimit.py`) are preceded by one route per health-check request from the same
caller (`health_route_matches`), so a check is never counted nor redirected; jwt_authn's
requirement rules (`jwt.py`) scope it the same way, so a check needs no token. Routes
cannot see the peer certificate; with mTLS they read `x-forwarded-client-cert`, which the
inbound listener rebuilds from the verified certificate (SANITIZE_SET: a caller's own is
dropped).
"""

from __future__ import annotations

import functools
import re
from typing import Final, cast

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.type.matcher.v3 import regex_pb2, string_pb2

from lucid.models import ServiceRegistration
from lucid.translators.mtls import mtls_of
from lucid.translators.node import HEALTH_CHECKER_ID, SOURCE_HEADER, SOURCE_PLANE_HEADER
from lucid.translators.state import MeshState

GRPC_HEALTH_PATH: Final = "/grpc.health.v1.Health/Check"
CLIENT_CERT_HEADER: Final = "x-forwarded-client-cert"
_STANDARD = frozenset({"Check", "grpc.health.v1.Health/Check", GRPC_HEALTH_PATH})
_PATH = re.compile(r"/[A-Za-z0-9/_.-]*")

HealthRequest = tuple[str, str]  # (method, exact path)


def health_request(registration: ServiceRegistration) -> HealthRequest | None:
    """What the registry sends to check `registration` (the rule of `registry.probes`);
    None when that is no exact path (a gRPC method that is not `package.Service/Method`)."""
    config = registration.healthCheck
    if registration.endpoint.protocol in ("grpc", "grpcs") and config.httpCheck is None:
        method = config.grpcCheck.method if config.grpcCheck is not None else None
        if method is None or method in _STANDARD:
            path = GRPC_HEALTH_PATH
        elif "/" in method:
            path = "/" + method.lstrip("/")
        else:
            return None
        verb = "POST"
    else:
        path = config.endpoint
        verb = config.httpCheck.method if config.httpCheck is not None else "GET"
    segments = path.split("/")
    if not _PATH.fullmatch(path) or "." in segments or ".." in segments:
        return None
    return verb, path


def health_requests(state: MeshState, service: str) -> tuple[HealthRequest, ...]:
    """The health-check requests of every instance of `service`, sorted, each once
    (once per state: the access rules, the policy routes and their key all read them)."""
    key = ("health requests", service)
    cached = state._memo.get(key)
    if cached is not None:
        return cast(tuple[HealthRequest, ...], cached)
    found = state.service(service)
    requests = {health_request(i.registration) for i in found.instances} if found else set()
    result = tuple(sorted(r for r in requests if r is not None))
    state._memo[key] = result
    return result


def _exact(value: str) -> string_pb2.StringMatcher:
    return string_pb2.StringMatcher(exact=value)


@functools.cache
def control_plane_headers(identity: str, *, mtls: bool) -> tuple[rc.HeaderMatcher, ...]:
    """Route-level test for the control-plane caller `identity` (module docstring). Built
    once; callers copy the matchers into their routes."""
    if mtls:
        regex = regex_pb2.RegexMatcher(regex=f"(?:.*;)?URI={re.escape(identity)}(?:;.*)?")
        return (
            rc.HeaderMatcher(
                name=CLIENT_CERT_HEADER, string_match=string_pb2.StringMatcher(safe_regex=regex)
            ),
        )
    return tuple(
        rc.HeaderMatcher(name=name, present_match=True, invert_match=True)
        for name in (SOURCE_HEADER, SOURCE_PLANE_HEADER)
    )


def health_route_matches(
    state: MeshState, service: str
) -> tuple[tuple[HealthRequest, rc.RouteMatch], ...]:
    """One route match per health-check request of `service`, from the health checker
    (built once per distinct requests and mTLS setting; callers copy them into their
    routes)."""
    mtls = mtls_of(state, service) is not None
    return _health_route_matches(health_requests(state, service), mtls)


@functools.lru_cache(maxsize=256)
def _health_route_matches(
    requests: tuple[HealthRequest, ...], mtls: bool
) -> tuple[tuple[HealthRequest, rc.RouteMatch], ...]:
    caller = control_plane_headers(HEALTH_CHECKER_ID, mtls=mtls)
    built: list[tuple[HealthRequest, rc.RouteMatch]] = []
    for method, path in requests:
        match = rc.RouteMatch(path=path)
        match.headers.append(rc.HeaderMatcher(name=":method", string_match=_exact(method)))
        match.headers.extend(caller)
        built.append(((method, path), match))
    return tuple(built)


__all__ = [
    "CLIENT_CERT_HEADER",
    "GRPC_HEALTH_PATH",
    "HealthRequest",
    "control_plane_headers",
    "health_request",
    "health_requests",
    "health_route_matches",
]
