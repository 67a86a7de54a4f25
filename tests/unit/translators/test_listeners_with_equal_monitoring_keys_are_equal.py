"""Listeners are shared between services whose inputs agree; for the HTTP connection
manager those inputs are its arguments plus `monitoring_key` of the sidecar. Equal keys
must give byte-identical managers, and different managers different keys."""

import itertools

from lucid.models import SidecarConfiguration
from lucid.translators.hcm import http_connection_manager, monitoring_key
from tests.builders import monitoring_config, sidecar

LOGGING = [
    {"enabled": True, "level": "info", "format": "json"},
    {"enabled": True, "level": "error", "format": "json"},
    {"enabled": True, "level": "info", "format": "text"},
    {"enabled": False, "level": "error", "format": "text"},
]
TRACING = [
    {"enabled": False, "samplingRate": 0.1},
    {"enabled": True, "samplingRate": 0.1},
    {"enabled": True, "samplingRate": 0.5},
    {"enabled": True, "samplingRate": 0.5, "endpoint": "otel.lucid.onion:4317"},
    {"enabled": True, "samplingRate": 0.5, "endpoint": "collector:4317"},
]


def _manager_bytes(config: SidecarConfiguration | None, service: str) -> bytes:
    manager = http_connection_manager(
        stat_prefix="inbound",
        http_filters=[],
        sidecar=config,
        service=service,
        route_config_name="r",
    )
    return manager.SerializeToString(deterministic=True)


def test_listeners_with_equal_monitoring_keys_are_equal():
    cases: list[tuple[SidecarConfiguration | None, str]] = [(None, "a"), (None, "b")]
    for logging, tracing, service in itertools.product(LOGGING, TRACING, ("a", "b")):
        document = sidecar(monitoring=monitoring_config(logging=logging, tracing=tracing))
        cases.append((SidecarConfiguration.model_validate(document), service))
    cases.append((SidecarConfiguration.model_validate(sidecar()), "a"))
    for (one, first), (other, second) in itertools.combinations(cases, 2):
        same_key = monitoring_key(one, first) == monitoring_key(other, second)
        same_bytes = _manager_bytes(one, first) == _manager_bytes(other, second)
        assert same_key == same_bytes, (one and one.monitoring, first, other and other.monitoring)
