"""Per-route policies: retries, hashing and sticky sessions, and the destination facts
they read.

A route's behaviour depends on a few facts about the service it is addressed to (its
protocol, base path, load-balancing and circuit-breaker settings). `destination_facts`
collects them once per destination, so rendering a route never walks the sidecar models
again, and two routes to one destination are rendered from the same facts.

Retries (`retry_policy`):

| RetryConfig                     | Envoy `RetryPolicy`                                  |
|---------------------------------|------------------------------------------------------|
| maxAttempts                     | num_retries = maxAttempts - 1                        |
| initialDelay / maxDelay         | retry_back_off base_interval / max_interval          |
| backoffMultiplier               | not expressible: Envoy doubles (with full jitter)    |
| 5xx, gateway-error, reset,      | the retry_on condition of the same name              |
| retriable-4xx, refused-stream   |                                                      |
| connection-error                | connect-failure, reset, refused-stream               |
| timeout                         | reset (a per-try timeout counts as no response); the |
|                                 | per-try timeout is the response timeout              |
| cancelled, deadline-exceeded,   | the gRPC retry_on codes, for grpc/grpcs destinations |
| internal, resource-exhausted,   | only (an HTTP service has no gRPC status)            |
| unavailable                     |                                                      |

Sidecars also retry on another host (`previous_hosts` predicate). Proxyless gRPC clients
honour only the gRPC codes, num_retries and back-off, so only those are sent to them.

Consistent hashing (`hash_policies`, destination `loadBalancing.hashOn`): `source-ip`
(default) hashes the downstream address (from a sidecar that is the calling instance, so
each caller sticks to one instance; at the edge it is the external client), `header:X`,
`cookie:X` and `query:X` hash that value. gRPC clients hash a header, or else their
channel (`io.grpc.channel_id`), the client-side analogue of a source address.

Sticky sessions use Envoy's stateful-session filter with a cookie that names the chosen
host. That is strong stickiness: the session stays on its host while the host is alive,
even when hosts are added or removed, whereas a hash cookie only picks a ring position and
moves sessions whenever the host set changes. The filter sits in the outbound HTTP
connection manager disabled, and each route to a sticky destination enables it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from envoy.config.core.v3 import extension_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.extensions.filters.http.stateful_session.v3 import stateful_session_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.http.stateful_session.cookie.v3 import cookie_pb2
from envoy.extensions.retry.host.previous_hosts.v3 import previous_hosts_pb2
from envoy.type.http.v3 import cookie_pb2 as http_cookie_pb2
from google.protobuf import any_pb2

from lucid.models.config import RetryConfig
from lucid.translators.clusters import circuit_break_parameters, duration_ms
from lucid.translators.endpoints import algorithm_of
from lucid.translators.messages import pack
from lucid.translators.state import MeshState

STATEFUL_SESSION_FILTER: Final = "envoy.filters.http.stateful_session"
COOKIE_SESSION_STATE: Final = "envoy.http.stateful_session.cookie"
PREVIOUS_HOSTS: Final = "envoy.retry_host_predicates.previous_hosts"
GRPC_CHANNEL_ID: Final = "io.grpc.channel_id"
GRPC_CODES: Final = frozenset(
    {"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"}
)
RETRY_ON: Final[dict[str, tuple[str, ...]]] = {
    "5xx": ("5xx",),
    "gateway-error": ("gateway-error",),
    "timeout": ("reset",),
    "connection-error": ("connect-failure", "reset", "refused-stream"),
    "reset": ("reset",),
    "retriable-4xx": ("retriable-4xx",),
    "refused-stream": ("refused-stream",),
}
HOST_SELECTION_ATTEMPTS: Final = 3


@dataclass(frozen=True, slots=True)
class DestinationFacts:
    """What routes to a destination need to know about it."""

    name: str
    protocol: str = "http"
    base_path: str | None = None
    consistent_hash: bool = False
    hash_on: str | None = None
    sticky_cookie: str | None = None
    sticky_ttl: int | None = None
    breaker_timeout_ms: int | None = None


def destination_facts(state: MeshState, name: str) -> DestinationFacts:
    service = state.services.get(name)
    if service is None:
        return DestinationFacts(name=name)
    endpoint = service.primary.registration.endpoint
    sidecar = state.sidecar_of_service(name)
    balancing = sidecar.routing.loadBalancing if sidecar is not None else None
    sticky = balancing.stickySession if balancing is not None else None
    breaker = circuit_break_parameters(sidecar)
    return DestinationFacts(
        name=name,
        protocol=endpoint.protocol,
        base_path=endpoint.path if endpoint.path not in (None, "/") else None,
        consistent_hash=algorithm_of(state, name) == "consistent-hash",
        hash_on=balancing.hashOn if balancing is not None else None,
        sticky_cookie=sticky.cookie if sticky is not None and sticky.enabled else None,
        sticky_ttl=sticky.ttl if sticky is not None else None,
        breaker_timeout_ms=(
            breaker.timeout
            if breaker is not None and "timeout" in breaker.model_fields_set
            else None
        ),
    )


def retry_conditions(retry: RetryConfig, protocol: str, proxyless: bool) -> tuple[str, ...]:
    """The retry_on conditions of a retry config, sorted (see the module table)."""
    grpc = protocol in ("grpc", "grpcs")
    found: set[str] = set()
    for kind in retry.retryableErrors:
        if kind in GRPC_CODES:
            if grpc:
                found.add(kind)
        elif not proxyless:
            found.update(RETRY_ON[kind])
    return tuple(sorted(found))


def retry_policy(
    retry: RetryConfig, protocol: str, per_try_ms: int | None, proxyless: bool
) -> rc.RetryPolicy | None:
    """The Envoy retry policy, or None when no condition applies to this destination.
    One message per distinct input (routes copy it): meshes repeat a few retry configs."""
    conditions = retry_conditions(retry, protocol, proxyless)
    if not conditions:
        return None
    return _retry_policy(
        conditions, retry.maxAttempts, retry.initialDelay, retry.maxDelay, per_try_ms, proxyless
    )


@functools.lru_cache(maxsize=1024)
def _retry_policy(
    conditions: tuple[str, ...],
    attempts: int,
    initial_ms: int,
    max_ms: int,
    per_try_ms: int | None,
    proxyless: bool,
) -> rc.RetryPolicy:
    policy = rc.RetryPolicy(retry_on=",".join(conditions))
    policy.num_retries.value = attempts - 1
    policy.retry_back_off.base_interval.CopyFrom(duration_ms(initial_ms))
    policy.retry_back_off.max_interval.CopyFrom(duration_ms(max_ms))
    if not proxyless:
        if per_try_ms is not None:
            policy.per_try_timeout.CopyFrom(duration_ms(per_try_ms))
        policy.retry_host_predicate.append(
            rc.RetryPolicy.RetryHostPredicate(
                name=PREVIOUS_HOSTS, typed_config=pack(previous_hosts_pb2.PreviousHostsPredicate())
            )
        )
        policy.host_selection_retry_max_attempts = HOST_SELECTION_ATTEMPTS
    return policy


def hash_policies(hash_on: str | None, proxyless: bool) -> list[rc.RouteAction.HashPolicy]:
    """The route hash policy of a consistent-hash destination (`hashOn`, default source-ip)."""
    kind, _, name = (hash_on or "source-ip").partition(":")
    policy = rc.RouteAction.HashPolicy()
    if kind == "header":
        policy.header.header_name = name.lower()
    elif proxyless:
        policy.filter_state.key = GRPC_CHANNEL_ID
    elif kind == "cookie":
        policy.cookie.name = name
    elif kind == "query":
        policy.query_parameter.name = name
    else:
        policy.connection_properties.source_ip = True
    return [policy]


def _session(
    cookie: str | None = None, ttl: int | None = None
) -> stateful_session_pb2.StatefulSession:
    session = stateful_session_pb2.StatefulSession()
    if cookie is not None:
        state = cookie_pb2.CookieBasedSessionState(
            cookie=http_cookie_pb2.Cookie(name=cookie, path="/")
        )
        if ttl:
            state.cookie.ttl.CopyFrom(duration_ms(ttl * 1000))
        session.session_state.CopyFrom(
            extension_pb2.TypedExtensionConfig(name=COOKIE_SESSION_STATE, typed_config=pack(state))
        )
    return session


def sticky_route_config(cookie: str, ttl: int | None) -> any_pb2.Any:
    """Per-route config that turns the stateful-session filter on with this cookie."""
    return pack(
        stateful_session_pb2.StatefulSessionPerRoute(stateful_session=_session(cookie, ttl))
    )


def stateful_session_filter() -> hcm_pb2.HttpFilter:
    """The HCM filter, with no session state of its own: routes enable it."""
    return hcm_pb2.HttpFilter(name=STATEFUL_SESSION_FILTER, typed_config=pack(_session()))
