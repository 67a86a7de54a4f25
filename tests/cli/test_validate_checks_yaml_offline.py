"""`lucid validate` needs no server: exit 0 with a summary, or 1 with every error located."""

from __future__ import annotations

GOOD = """
apiVersion: lucid.mesh/v1
kind: TrafficPolicy
spec:
  name: gateway-to-chain
  source: api-gateway
  destination: blockchain-core
  rules:
    - action: allow
"""

BAD = """
apiVersion: lucid.mesh/v1
kind: TrafficPolicy
spec:
  name: gateway-to-chain
  source: api-gateway
  destination: blockchain-core
  priority: 0
  rules:
    - action: allow
---
apiVersion: lucid.mesh/v1
kind: ServiceRegistration
spec:
  serviceId: 550e8400-e29b-41d4-a716-446655440000
  serviceName: api-gateway
  cluster: api-gateway
  plane: ops
  version: 1.0.0
  endpoint: {host: api-gateway.lucid.onion, port: 8080, protocol: http}
  healthCheck: {endpoint: /health, interval: 30, timeout: 10}
  ttl: 5
"""


def test_a_valid_file_exits_0_with_one_line_per_file(offline_lucid, write):
    path = write("good.yaml", GOOD)

    result = offline_lucid("validate", "-f", str(path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{path}: valid (1 document(s): 1 TrafficPolicy)"]


def test_every_error_is_listed_with_file_line_document_code_and_path(offline_lucid, write):
    path = write("bad.yaml", BAD)

    result = offline_lucid("validate", "-f", str(path))

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:7 (document 1): LUCID_ERR_1201 spec.priority: ")
    assert lines[0].endswith("(got 0)")
    assert lines[1].startswith(f"{path}:21 (document 2): LUCID_ERR_1004 spec.ttl: ")
    assert lines[1].endswith("(got 5)")
    assert "2 error(s) in 1 file(s)" in result.stderr


def test_the_shipped_examples_validate(offline_lucid):
    result = offline_lucid("validate", "-f", "examples/")

    assert result.returncode == 0, result.stdout
    assert all(": valid (" in line for line in result.stdout.splitlines())


INEXACT = """
apiVersion: lucid.mesh/v1
kind: SidecarConfiguration
spec:
  serviceId: 550e8400-e29b-41d4-a716-446655440000
  policies: []
  routing:
    defaultRoute: blockchain-core
    retry:
      maxAttempts: 3
      backoffMultiplier: 1.5
"""


def test_fields_envoy_cannot_honour_exactly_are_warned_about_with_file_and_line(
    offline_lucid, write
):
    path = write("inexact.yaml", INEXACT)

    result = offline_lucid("validate", "-f", str(path))

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {path}:10: SidecarConfiguration 550e8400-e29b-41d4-a716-446655440000: "
        "spec.routing.retry.backoffMultiplier: Envoy's back-off always doubles (multiplier 2, "
        "fully jittered) from initialDelay up to maxDelay; 1.5 is not used"
    ]


HEADER_TRUST = """
apiVersion: lucid.mesh/v1
kind: ServiceRegistration
spec:
  serviceId: 550e8400-e29b-41d4-a716-446655440000
  serviceName: api-gateway
  cluster: api-gateway
  plane: ops
  version: 1.0.0
  endpoint: {host: 10.0.0.1, port: 8080, protocol: http}
  healthCheck: {endpoint: /health, interval: 30, timeout: 5}
---
apiVersion: lucid.mesh/v1
kind: ServiceRegistration
spec:
  serviceId: 550e8400-e29b-41d4-a716-446655440001
  serviceName: blockchain-core
  cluster: blockchain-core
  plane: chain
  version: 1.0.0
  endpoint: {host: 10.0.0.2, port: 8080, protocol: http}
  healthCheck: {endpoint: /health, interval: 30, timeout: 5}
---
apiVersion: lucid.mesh/v1
kind: TrafficPolicy
spec:
  name: only-the-gateway
  source: api-gateway
  destination: blockchain-core
  rules:
    - action: allow
"""


def test_rules_naming_callers_of_a_service_without_mtls_are_warned_about(offline_lucid, write):
    path = write("header-trust.yaml", HEADER_TRUST)

    result = offline_lucid("validate", "-f", str(path))

    assert result.returncode == 0, result.stderr
    [warning] = result.stderr.splitlines()
    assert warning.startswith("warning: service blockchain-core: ")
    assert "x-lucid-source header" in warning and "not tamper-proof" in warning
