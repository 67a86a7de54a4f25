"""Spec section 3, sidecar models: a service's sidecar policies and its routing.

Checks beyond the spec's ranges: routes that share one match form a split whose weights
sum to 100; a policy's rules use the action its type names; sticky sessions name their
cookie; a route's destination is one service (a glob cannot receive traffic).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Literal

from pydantic import Field, model_validator

from lucid.models.common import (
    DateTime,
    Destination,
    Headers,
    HttpMethod,
    Identifier,
    PathMatch,
    Priority,
    Selector,
    SpecModel,
    Uuid,
    Weight,
    rule_error,
)
from lucid.models.config import (
    MonitoringConfig,
    ResourceConfig,
    RetryConfig,
    SecurityConfig,
    TimeoutConfig,
)
from lucid.models.rules import PolicyRule, RequestMatch

# Policy types whose rules must all carry one action.
_ACTION_OF_TYPE = {
    "rate-limit": "rate-limit",
    "circuit-breaker": "circuit-break",
    "retry": "retry",
    "timeout": "timeout",
}
_AUTH_ACTIONS = ("allow", "deny", "redirect")


class PolicyConditions(SpecModel):
    source: Selector | None = None
    destination: Selector | None = None
    path: PathMatch | None = None
    method: HttpMethod | None = None
    headers: Headers | None = None


class SidecarPolicy(SpecModel):
    policyId: Identifier
    type: Literal["rate-limit", "circuit-breaker", "retry", "timeout", "auth", "logging"]
    rules: list[PolicyRule]
    priority: Priority = 100
    enabled: bool = True
    conditions: PolicyConditions | None = None

    @model_validator(mode="after")
    def _rules_fit_type(self) -> SidecarPolicy:
        expected = _ACTION_OF_TYPE.get(self.type)
        for index, rule in enumerate(self.rules):
            if expected is not None and rule.action != expected:
                raise rule_error(
                    f"rules.{index}.action",
                    f"a {self.type} policy takes only {expected!r} rules",
                    rule.action,
                )
            if self.type == "auth" and rule.action not in _AUTH_ACTIONS:
                raise rule_error(
                    f"rules.{index}.action",
                    f"an auth policy takes only {', '.join(_AUTH_ACTIONS)} rules",
                    rule.action,
                )
        return self


class Route(SpecModel):
    match: RequestMatch
    destination: Destination
    weight: Weight | None = None
    # Milliseconds; the spec gives no range, so the TimeoutConfig.request range applies.
    timeout: Annotated[int, Field(ge=1, le=300000)] | None = None
    retry: RetryConfig | None = None


class LoadBalancerHealthCheck(SpecModel):
    enabled: bool = True
    interval: Annotated[int, Field(ge=1, le=3600)] = 30
    timeout: Annotated[int, Field(ge=1, le=3600)] = 5
    unhealthyThreshold: Annotated[int, Field(ge=1, le=100)] = 3
    healthyThreshold: Annotated[int, Field(ge=1, le=100)] = 2

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> LoadBalancerHealthCheck:
        if self.timeout >= self.interval:
            raise rule_error(
                "timeout",
                f"timeout ({self.timeout} s) must be shorter than interval ({self.interval} s)",
                self.timeout,
            )
        return self


class StickySession(SpecModel):
    enabled: bool = False
    cookie: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] | None = None
    ttl: Annotated[int, Field(ge=0, le=31_536_000)] | None = None

    @model_validator(mode="after")
    def _enabled_needs_cookie(self) -> StickySession:
        if self.enabled and self.cookie is None:
            raise rule_error("cookie", "a sticky session needs a cookie name", None)
        return self


# Lucid extension: what consistent-hash hashes on. `header:<name>`, `cookie:<name>`,
# `query:<name>` or `source-ip` (the default).
HashOn = Annotated[
    str,
    Field(
        pattern=r"^(source-ip|header:[A-Za-z0-9-]+|cookie:[A-Za-z0-9_.-]+|query:[A-Za-z0-9_.-]+)$"
    ),
]


class LoadBalancingConfig(SpecModel):
    algorithm: Literal["round-robin", "least-connections", "random", "weighted", "consistent-hash"]
    healthCheck: LoadBalancerHealthCheck | None = None
    stickySession: StickySession | None = None
    hashOn: HashOn | None = None

    @model_validator(mode="after")
    def _hash_on_needs_consistent_hash(self) -> LoadBalancingConfig:
        if self.hashOn is not None and self.algorithm != "consistent-hash":
            raise rule_error(
                "hashOn",
                f"hashOn applies only to consistent-hash, not {self.algorithm}",
                self.hashOn,
            )
        return self


class RoutingConfig(SpecModel):
    defaultRoute: Destination
    routes: list[Route] | None = None
    loadBalancing: LoadBalancingConfig | None = None
    retry: RetryConfig | None = None
    timeout: TimeoutConfig | None = None

    @model_validator(mode="after")
    def _splits_sum_to_100(self) -> RoutingConfig:
        groups: dict[str, list[int]] = defaultdict(list)
        for index, route in enumerate(self.routes or []):
            groups[route.match.model_dump_json(exclude_none=True)].append(index)
        for indexes in groups.values():
            routes = [(self.routes or [])[i] for i in indexes]
            if len(routes) == 1 and routes[0].weight is None:
                continue
            for i, route in zip(indexes, routes, strict=True):
                if route.weight is None:
                    raise rule_error(
                        f"routes.{i}.weight",
                        "routes that share a match form a split and each needs a weight",
                        None,
                    )
            total = sum(route.weight or 0 for route in routes)
            if total != 100:
                raise rule_error(
                    f"routes.{indexes[-1]}.weight",
                    f"weights of routes with the same match must sum to 100, not {total} "
                    f"(routes {', '.join(str(i) for i in indexes)})",
                    total,
                )
            names = [route.destination for route in routes]
            # Point at the repeat, not at the first (valid) occurrence.
            for position, (i, name) in enumerate(zip(indexes, names, strict=True)):
                if name in names[:position]:
                    raise rule_error(
                        f"routes.{i}.destination",
                        f"{name!r} appears twice in one split",
                        name,
                    )
        return self


class SidecarConfiguration(SpecModel):
    serviceId: Uuid
    policies: list[SidecarPolicy]
    routing: RoutingConfig
    security: SecurityConfig | None = None
    monitoring: MonitoringConfig | None = None
    resources: ResourceConfig | None = None
    version: str | None = None
    lastUpdated: DateTime | None = None

    @model_validator(mode="after")
    def _unique_policy_ids(self) -> SidecarConfiguration:
        seen: set[str] = set()
        for index, policy in enumerate(self.policies):
            if policy.policyId in seen:
                raise rule_error(
                    f"policies.{index}.policyId",
                    f"policyId {policy.policyId!r} is used twice",
                    policy.policyId,
                )
            seen.add(policy.policyId)
        return self
