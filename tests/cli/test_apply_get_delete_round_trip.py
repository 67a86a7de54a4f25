"""apply → get → delete through the real CLI and server; `get -o yaml` applies back as is."""

from __future__ import annotations

import json

import yaml

from tests.builders import manifest, registration, traffic_policy

POLICY = manifest("TrafficPolicy", traffic_policy(name="round-trip-policy", priority=250))
SERVICE = manifest("ServiceRegistration", registration())


def test_apply_get_and_delete_round_trip(lucid, write):
    path = write("mesh.yaml", yaml.safe_dump_all([POLICY, SERVICE]))

    applied = lucid("apply", "-f", str(path))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines() == [
        "trafficpolicy/round-trip-policy created",
        f"serviceregistration/{SERVICE['spec']['serviceId']} created",
    ]

    table = lucid("get", "tp")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["NAME", "SOURCE", "DESTINATION", "RULES", "PRIORITY", "ENABLED"]
    assert ["round-trip-policy", "api-gateway", "blockchain-core", "allow", "250", "true"] in [
        row.split() for row in rows
    ]

    services = lucid("get", "services", "--where", "plane=ops")
    assert "api-gateway" in services.stdout
    assert "http://api-gateway.lucid.onion:8080" in services.stdout

    shown = lucid("get", "trafficpolicy", "round-trip-policy", "-o", "json")
    assert json.loads(shown.stdout)["spec"]["priority"] == 250

    deleted = lucid("delete", "-f", str(path))
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.splitlines() == [
        "trafficpolicy/round-trip-policy deleted",
        f"serviceregistration/{SERVICE['spec']['serviceId']} deleted",
    ]

    gone = lucid("get", "tp", "round-trip-policy")
    assert gone.returncode == 1
    assert gone.stderr.startswith("Error LUCID_ERR_1201: TrafficPolicy 'round-trip-policy'")


def test_get_as_yaml_applies_back_unchanged(lucid, write):
    path = write(
        "policy.yaml",
        yaml.safe_dump(manifest("TrafficPolicy", traffic_policy(name="yaml-round-trip"))),
    )
    assert lucid("apply", "-f", str(path)).returncode == 0

    exported = lucid("get", "trafficpolicies", "yaml-round-trip", "-o", "yaml")
    assert exported.returncode == 0, exported.stderr
    again = lucid("apply", "-f", "-", stdin=exported.stdout)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["trafficpolicy/yaml-round-trip unchanged"]
    assert lucid("delete", "tp", "yaml-round-trip").returncode == 0


def test_an_empty_list_says_so_on_stderr(lucid):
    result = lucid("get", "subscriptions")

    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "No subscriptions found."
