"""Where a document asks for something Envoy cannot do exactly, say so — never drop it silently.

The spec was written without Envoy in mind, and a few of its fields have no exact Envoy
counterpart (a back-off multiplier other than 2, a half-open circuit state, routing on the
request body, gRPC health checks of one method, CPU and memory limits). The translators do
the closest honest thing; this module names each such field in a document, with what is
done instead, so `lucid validate` and `lucid apply` can print it as a warning with the
file and line, and the REST API can return it. docs/translation.md holds the same notes
beside the whole mapping table.

`notes(model)` walks any validated model; the checks are keyed by model class, so a field
is reported wherever it appears (a retry inside a route as much as the sidecar's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from lucid.models.config import MetricsConfig, ResourceLimits, ResourceRequests, RetryConfig
from lucid.models.mesh import SecurityAuthentication, SecurityAuthorization
from lucid.models.parameters import CircuitBreakerConfig
from lucid.models.registration import GrpcCheck
from lucid.models.rules import (
    PolicyRuleMatch,
    PolicyTimeoutRule,
    _PolicyRuleBase,
    _TrafficRuleBase,
)
from lucid.models.sidecar import SidecarPolicy


@dataclass(frozen=True, slots=True)
class Note:
    """One inexact mapping: the field's dotted path in the document and what is done."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _retry(model: RetryConfig, path: str) -> Iterator[Note]:
    if model.backoffMultiplier != 2.0:
        yield Note(
            _join(path, "backoffMultiplier"),
            f"Envoy's back-off always doubles (multiplier 2, fully jittered) from initialDelay "
            f"up to maxDelay; {model.backoffMultiplier:g} is not used",
        )


def _circuit(model: CircuitBreakerConfig, path: str) -> Iterator[Note]:
    if "halfOpenMaxCalls" in model.model_fields_set:
        yield Note(
            _join(path, "halfOpenMaxCalls"),
            "Envoy has no half-open state: an ejected host gets all its traffic back after "
            "recoveryTimeout; the value is not used",
        )
    if "successThreshold" in model.model_fields_set:
        yield Note(
            _join(path, "successThreshold"),
            "outlier detection does not count successes to return a host; it comes back "
            "after recoveryTimeout (an active health check's successThreshold still applies)",
        )


def _body(model: PolicyRuleMatch, path: str) -> Iterator[Note]:
    if model.body is not None:
        yield Note(
            _join(path, "body"),
            "Envoy routes and authorizes on path, method, headers and query, never on the "
            "body: this rule is left out of the translation",
        )


def _grpc_check(model: GrpcCheck, path: str) -> Iterator[Note]:
    if model.method is not None:
        yield Note(
            _join(path, "method"),
            "grpc.health.v1 checks a service, not a method: the check calls Health/Check "
            "with `service`; method is not used",
        )


def _resources(model: ResourceLimits | ResourceRequests, path: str) -> Iterator[Note]:
    for name in ("cpu", "memory"):
        if getattr(model, name) is not None:
            yield Note(
                _join(path, name),
                "a sidecar cannot enforce CPU or memory; set it where the process runs "
                "(container, systemd unit); the value is recorded only",
            )
    if isinstance(model, ResourceRequests) and "connections" in model.model_fields_set:
        yield Note(
            _join(path, "connections"),
            "Envoy reserves no connections in advance; only limits.connections is enforced",
        )


def _metrics(model: MetricsConfig, path: str) -> Iterator[Note]:
    for name in ("endpoint", "interval"):
        if name in model.model_fields_set:
            yield Note(
                _join(path, name),
                "Envoy serves its metrics on the admin port at /stats/prometheus; endpoint "
                "and interval belong to the scraper's configuration",
            )


def _authentication(model: SecurityAuthentication, path: str) -> Iterator[Note]:
    if model.methods and "oauth2" in model.methods:
        index = model.methods.index("oauth2")
        yield Note(
            _join(path, f"methods.{index}"),
            "oauth2 access tokens are verified as JWT bearer tokens (jwt_authn) with the "
            "jwt settings; opaque tokens cannot be introspected by the sidecar",
        )


def _authorization(model: SecurityAuthorization, path: str) -> Iterator[Note]:
    if model.resourceAccess is not None:
        yield Note(
            _join(path, "resourceAccess"),
            "free-form resource access has no Envoy meaning; express it as permissions "
            "(METHOD:/path) — the value is recorded only",
        )


def _rule_weight(model: _TrafficRuleBase | _PolicyRuleBase, path: str) -> Iterator[Note]:
    if model.weight is not None:
        yield Note(
            _join(path, "weight"),
            "a rule's weight is not used: split weights go in a weighted-split rule's "
            "destinations or in routes that share a match",
        )


def _timeout_rule(model: PolicyTimeoutRule, path: str) -> Iterator[Note]:
    if "connect" in model.parameters.model_fields_set:
        yield Note(
            _join(path, "parameters.connect"),
            "a connect timeout belongs to the destination's cluster (its sidecar's "
            "routing.timeout.connect); in a timeout policy it is not used",
        )


def _sidecar_policy(model: SidecarPolicy, path: str) -> Iterator[Note]:
    if model.type == "logging":
        yield Note(
            _join(path, "type"),
            "access logging follows monitoring.logging; the rules of a logging policy are "
            "not translated",
        )


_CHECKS: tuple[tuple[type[BaseModel], Callable[..., Iterator[Note]]], ...] = (
    (RetryConfig, _retry),
    (CircuitBreakerConfig, _circuit),
    (PolicyRuleMatch, _body),
    (GrpcCheck, _grpc_check),
    (ResourceLimits, _resources),
    (ResourceRequests, _resources),
    (MetricsConfig, _metrics),
    (SecurityAuthentication, _authentication),
    (SecurityAuthorization, _authorization),
    (SidecarPolicy, _sidecar_policy),
    (_TrafficRuleBase, _rule_weight),
    (_PolicyRuleBase, _rule_weight),
    (PolicyTimeoutRule, _timeout_rule),
)


def _walk(value: object, path: str) -> Iterator[Note]:
    if isinstance(value, BaseModel):
        for cls, check in _CHECKS:
            if isinstance(value, cls):
                yield from check(value, path)
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), _join(path, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, _join(path, str(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, BaseModel | list | dict):
                yield from _walk(item, _join(path, str(key)))


def notes(model: BaseModel) -> list[Note]:
    """Every inexact mapping in a validated document, in document order."""
    return list(_walk(model, ""))
