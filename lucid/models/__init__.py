"""Pydantic models of every schema in the spec, one module per spec section.

| spec section                      | module                                 |
|-----------------------------------|----------------------------------------|
| 1 service identity                | identity                               |
| 2 service registration            | registration                           |
| 3 sidecar                         | sidecar (rules in rules, parameters)   |
| 4 service mesh                    | mesh                                   |
| 5 inter-service communication     | messaging                              |
| 6 configuration                   | config                                 |
"""

from lucid.models.config import (
    MonitoringConfig,
    ResourceConfig,
    RetryConfig,
    SecurityConfig,
    TimeoutConfig,
)
from lucid.models.identity import ServiceEndpoint, ServiceIdentifier
from lucid.models.mesh import SecurityPolicy, SecurityRule, TrafficPolicy
from lucid.models.messaging import (
    EventSubscription,
    InterServiceMessage,
    MessageStatus,
    ServiceEvent,
)
from lucid.models.parameters import CircuitBreakerConfig
from lucid.models.registration import HealthCheckConfig, HealthStatus, ServiceRegistration
from lucid.models.rules import PolicyRule, TrafficRule
from lucid.models.sidecar import (
    LoadBalancingConfig,
    Route,
    RoutingConfig,
    SidecarConfiguration,
    SidecarPolicy,
)

__all__ = [
    "CircuitBreakerConfig",
    "EventSubscription",
    "HealthCheckConfig",
    "HealthStatus",
    "InterServiceMessage",
    "LoadBalancingConfig",
    "MessageStatus",
    "MonitoringConfig",
    "PolicyRule",
    "ResourceConfig",
    "RetryConfig",
    "Route",
    "RoutingConfig",
    "SecurityConfig",
    "SecurityPolicy",
    "SecurityRule",
    "ServiceEndpoint",
    "ServiceEvent",
    "ServiceIdentifier",
    "ServiceRegistration",
    "SidecarConfiguration",
    "SidecarPolicy",
    "TimeoutConfig",
    "TrafficPolicy",
    "TrafficRule",
]
