"""The winning circuit-break rule of the destination's sidecar sets the cluster's
thresholds and outlier detection: each error type switches on its own detector, and an
ejection lasts recoveryTimeout without growing."""

from __future__ import annotations

import pytest

from lucid.translators.clusters import cluster
from tests.builders import circuit_break_policy, instance, sidecar_for


def breaker_cluster(mesh, *policies):
    state = mesh(
        [instance("blockchain-core", 1)], sidecars=[sidecar_for(1, policies=list(policies))]
    )
    return cluster(state, state.services["blockchain-core"])


def test_no_circuit_breaker_policy_leaves_envoy_defaults(mesh):
    result = breaker_cluster(mesh)
    assert not result.HasField("circuit_breakers")
    assert not result.HasField("outlier_detection")


def test_thresholds_come_from_the_rule(mesh):
    result = breaker_cluster(
        mesh,
        circuit_break_policy(
            maxConnections=100, maxPendingRequests=10, maxRequests=200, maxRetries=3
        ),
    )
    (thresholds,) = result.circuit_breakers.thresholds
    assert thresholds.max_connections.value == 100
    assert thresholds.max_pending_requests.value == 10
    assert thresholds.max_requests.value == 200
    assert thresholds.max_retries.value == 3


def test_unset_thresholds_are_not_written(mesh):
    (thresholds,) = breaker_cluster(mesh, circuit_break_policy()).circuit_breakers.thresholds
    assert not thresholds.HasField("max_connections")


def test_recovery_timeout_is_a_fixed_ejection_time(mesh):
    detection = breaker_cluster(mesh, circuit_break_policy(recoveryTimeout=45)).outlier_detection
    assert detection.base_ejection_time.seconds == 45
    assert detection.max_ejection_time.seconds == 45


@pytest.mark.parametrize(
    ("error_types", "five_xx", "gateway", "local_origin"),
    [
        (["5xx"], 100, 0, 0),
        (["gateway-error"], 0, 100, 0),
        (["timeout"], 0, 0, 100),
        (["connection-error"], 0, 0, 100),
        (["5xx", "timeout", "connection-error"], 100, 0, 100),
    ],
)
def test_error_types_switch_on_their_detectors(mesh, error_types, five_xx, gateway, local_origin):
    detection = breaker_cluster(
        mesh, circuit_break_policy(failureThreshold=7, errorTypes=error_types)
    ).outlier_detection
    assert detection.split_external_local_origin_errors
    assert detection.consecutive_5xx.value == 7
    assert detection.enforcing_consecutive_5xx.value == five_xx
    assert detection.enforcing_consecutive_gateway_failure.value == gateway
    assert detection.enforcing_consecutive_local_origin_failure.value == local_origin
    assert detection.enforcing_success_rate.value == 0
    assert detection.enforcing_failure_percentage.value == 0


def test_the_higher_priority_policy_wins(mesh):
    result = breaker_cluster(
        mesh,
        circuit_break_policy(priority=100, maxConnections=1),
        circuit_break_policy(priority=500, maxConnections=2),
    )
    assert result.circuit_breakers.thresholds[0].max_connections.value == 2


def test_a_disabled_policy_does_nothing(mesh):
    policy = {**circuit_break_policy(maxConnections=1), "enabled": False}
    assert not breaker_cluster(mesh, policy).HasField("circuit_breakers")
