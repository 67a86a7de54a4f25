"""Health checks, and how each destination lets exactly those through.

Two kinds of checker probe an instance at its sidecar's inbound port:

- the registry (`lucid.registry.probes`), whose results decide what EDS reports;
- every caller's sidecar, which runs the destination's `healthCheck` as the active health
  check of its `outbound|<service>` cluster (`clusters.py`), with its own certificate
  when the destination has mesh mTLS.

Either sends the healthCheck `endpoint` with `httpCheck.method` (GET by default), or for a
gRPC check `/grpc.health.v1.Health/Check`, POST; the registry calls the full method
`grpcCheck.method` names instead, when it names one. The destination's own rules would
refuse them: mTLS asks for a mesh certificate, an RBAC that denies by default answers 403
(to a caller allowed only some paths, too, which would then see every instance as
unhealthy and could call none), a rate limit counts them, a redirect sends them away.

So every destination's access rules start with one allow rule above every priority
(`access.py`, HEALTH_CHECK_PRIORITY) for exactly these requests (`health_requests`), from
a health checker (`rbac.py` compiles the caller): a request carrying neither
`x-lucid-source` nor `x-lucid-source-plane`. No checker sends them, and every request an
app sends through its sidecar has `x-lucid-source` (and, from a registered service,
`x-lucid-source-plane`), set over whatever the app sent by that sidecar, so an app's own
requests never pass as checks.

- mTLS on: the connection also presents a certificate of the mesh CA: the registry's
  (`HEALTH_CHECKER_ID`) or a sidecar's. Any mesh identity may thus read the exact
  health-check request of any service, and nothing else by this rule;
- mTLS off: as strong as the header scheme itself: a client reaching the port directly
  can omit the headers, and then reaches the health-check requests and nothing else.

Paths are exact (`url_path` exact, the query left aside; no prefix, no regex, no `.` or
`..` segment): the rule opens no other path, and no other method. Rate-limit and redirect
routes (`ratelimit.py`) are preceded by one route per health-check request from a checker
(`health_route_matches`), so a check is never counted nor redirected; jwt_authn's
requirement rules (`jwt.py`) scope it the same way, so a check needs no token.
"""

from __future__ import annotations

import functools
import re
from typing import Final, cast

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.type.matcher.v3 import string_pb2

from lucid.models import ServiceRegistration
from lucid.translators.node import SOURCE_HEADER, SOURCE_PLANE_HEADER
from lucid.translators.state import MeshState

GRPC_HEALTH_PATH: Final = "/grpc.health.v1.Health/Check"
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


def sidecar_health_request(registration: ServiceRegistration) -> HealthRequest | None:
    """What a caller's sidecar sends to check `registration` (`health_checks.py`): the
    registry's request, except that Envoy's gRPC checker only knows the standard method."""
    if registration.endpoint.protocol in ("grpc", "grpcs") and (
        registration.healthCheck.httpCheck is None
    ):
        return "POST", GRPC_HEALTH_PATH
    return health_request(registration)


def health_requests(state: MeshState, service: str) -> tuple[HealthRequest, ...]:
    """The health-check requests of every instance of `service`, the registry's and the
    callers' sidecars', sorted, each once (once per state: the access rules, the policy
    routes and their key all read them)."""
    key = ("health requests", service)
    cached = state._memo.get(key)
    if cached is not None:
        return cast(tuple[HealthRequest, ...], cached)
    found = state.service(service)
    requests = {
        request
        for i in (found.instances if found else ())
        for request in (health_request(i.registration), sidecar_health_request(i.registration))
    }
    result = tuple(sorted(r for r in requests if r is not None))
    state._memo[key] = result
    return result


def _exact(value: str) -> string_pb2.StringMatcher:
    return string_pb2.StringMatcher(exact=value)


# Route-level test for a health checker (module docstring): neither source header.
# Callers copy the matchers into their routes.
HEALTH_CHECKER_HEADERS: Final = tuple(
    rc.HeaderMatcher(name=name, present_match=True, invert_match=True)
    for name in (SOURCE_HEADER, SOURCE_PLANE_HEADER)
)


def health_route_matches(
    state: MeshState, service: str
) -> tuple[tuple[HealthRequest, rc.RouteMatch], ...]:
    """One route match per health-check request of `service`, from a health checker
    (built once per distinct requests; callers copy them into their routes)."""
    return _health_route_matches(health_requests(state, service))


@functools.lru_cache(maxsize=256)
def _health_route_matches(
    requests: tuple[HealthRequest, ...],
) -> tuple[tuple[HealthRequest, rc.RouteMatch], ...]:
    built: list[tuple[HealthRequest, rc.RouteMatch]] = []
    for method, path in requests:
        match = rc.RouteMatch(path=path)
        match.headers.append(rc.HeaderMatcher(name=":method", string_match=_exact(method)))
        match.headers.extend(HEALTH_CHECKER_HEADERS)
        built.append(((method, path), match))
    return tuple(built)


__all__ = [
    "GRPC_HEALTH_PATH",
    "HEALTH_CHECKER_HEADERS",
    "HealthRequest",
    "health_request",
    "health_requests",
    "health_route_matches",
    "sidecar_health_request",
]
