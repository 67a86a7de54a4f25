"""Rules of sidecar and traffic policies, one class per action.

A rule is a tagged union on `action`: each variant carries the typed parameters of that
action (see `lucid.models.parameters`). Translators dispatch on the class, and a rule whose
parameters do not fit its action fails validation instead of being ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from lucid.models.common import Headers, HttpMethod, PathMatch, SpecModel, Weight
from lucid.models.config import RetryConfig, TimeoutConfig
from lucid.models.parameters import (
    CircuitBreakParameters,
    MirrorParameters,
    NoParameters,
    RateLimitParameters,
    RedirectParameters,
    WeightedSplitParameters,
)


class RequestMatch(SpecModel):
    """What a request must look like for a route or rule to apply (all given parts)."""

    headers: Headers | None = None
    path: PathMatch | None = None
    method: HttpMethod | None = None
    query: dict[str, str] | None = None


class PolicyRuleMatch(RequestMatch):
    body: dict[str, Any] | None = None


class TrafficRuleMatch(RequestMatch):
    sourceLabels: dict[str, str] | None = None
    destinationLabels: dict[str, str] | None = None


class _PolicyRuleBase(SpecModel):
    match: PolicyRuleMatch | None = None
    weight: Weight | None = None


class PolicyAllowRule(_PolicyRuleBase):
    action: Literal["allow"]
    parameters: NoParameters | None = None


class PolicyDenyRule(_PolicyRuleBase):
    action: Literal["deny"]
    parameters: NoParameters | None = None


class PolicyRedirectRule(_PolicyRuleBase):
    action: Literal["redirect"]
    parameters: RedirectParameters


class PolicyMirrorRule(_PolicyRuleBase):
    action: Literal["mirror"]
    parameters: MirrorParameters


class PolicyRateLimitRule(_PolicyRuleBase):
    action: Literal["rate-limit"]
    parameters: RateLimitParameters


class PolicyCircuitBreakRule(_PolicyRuleBase):
    action: Literal["circuit-break"]
    parameters: CircuitBreakParameters


class PolicyRetryRule(_PolicyRuleBase):
    action: Literal["retry"]
    parameters: RetryConfig


class PolicyTimeoutRule(_PolicyRuleBase):
    action: Literal["timeout"]
    parameters: TimeoutConfig


PolicyRule = Annotated[
    PolicyAllowRule
    | PolicyDenyRule
    | PolicyRedirectRule
    | PolicyMirrorRule
    | PolicyRateLimitRule
    | PolicyCircuitBreakRule
    | PolicyRetryRule
    | PolicyTimeoutRule,
    Field(discriminator="action"),
]


class _TrafficRuleBase(SpecModel):
    match: TrafficRuleMatch | None = None
    weight: Weight | None = None


class TrafficAllowRule(_TrafficRuleBase):
    action: Literal["allow"]
    parameters: NoParameters | None = None


class TrafficDenyRule(_TrafficRuleBase):
    action: Literal["deny"]
    parameters: NoParameters | None = None


class TrafficRedirectRule(_TrafficRuleBase):
    action: Literal["redirect"]
    parameters: RedirectParameters


class TrafficMirrorRule(_TrafficRuleBase):
    action: Literal["mirror"]
    parameters: MirrorParameters


class TrafficWeightedSplitRule(_TrafficRuleBase):
    action: Literal["weighted-split"]
    parameters: WeightedSplitParameters


TrafficRule = Annotated[
    TrafficAllowRule
    | TrafficDenyRule
    | TrafficRedirectRule
    | TrafficMirrorRule
    | TrafficWeightedSplitRule,
    Field(discriminator="action"),
]
