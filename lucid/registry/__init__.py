"""The service registry: registrations with TTL leases, active health checks, their events.

`Registry` holds the state and the operations the REST API calls; `RegistryComponent`
runs the expiry timer, the health checker and the store follower inside `lucid serve`.
"""

from lucid.registry.component import RegistryComponent
from lucid.registry.registry import Registry

__all__ = ["Registry", "RegistryComponent"]
