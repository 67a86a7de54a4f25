"""Failures name their cause: YAML errors by file and line, server errors by LUCID code."""

from __future__ import annotations

from tests.cli.conftest import clean_env, runner


def test_an_unreachable_server_says_to_start_lucid_serve_and_exits_3(offline_lucid):
    result = offline_lucid("get", "services")

    assert result.returncode == 3
    assert "is `lucid serve` running at http://127.0.0.1:" in result.stderr


def test_a_wrong_token_is_refused_with_the_code_and_a_hint(server, write):
    lucid = runner(clean_env(LUCID_SERVER=server.url, LUCID_API_TOKEN="wrong-token"))
    path = write(
        "p.yaml",
        """
        apiVersion: lucid.mesh/v1
        kind: SecurityPolicy
        spec: {name: token-test, source: api-gateway, destination: blockchain-core,
               rules: [{action: allow}]}
    """,
    )

    result = lucid("apply", "-f", str(path))

    assert result.returncode == 1
    assert result.stderr.startswith("Error LUCID_ERR_1203: ")
    assert "LUCID_API_TOKEN" in result.stderr
    assert runner(clean_env(LUCID_SERVER=server.url))("get", "sp").stdout == ""


def test_bad_yaml_is_reported_locally_and_nothing_is_sent(lucid, server, write):
    path = write(
        "mixed.yaml",
        """
        apiVersion: lucid.mesh/v1
        kind: TrafficPolicy
        spec: {name: would-be-stored, source: api-gateway, destination: blockchain-core,
               rules: [{action: allow}]}
        ---
        apiVersion: lucid.mesh/v1
        kind: TrafficPolicy
        spec:
          name: broken
          source: api-gateway
          destination: blockchain-core
          rules: [{action: teleport}]
    """,
    )
    log_before = server.log_text()

    result = lucid("apply", "-f", str(path))

    assert result.returncode == 1
    assert f"{path}:12 (document 2): LUCID_ERR_1201 spec.rules.0.action" in result.stderr
    assert "nothing was sent" in result.stderr
    assert server.log_text().count("POST /v1/apply") == log_before.count("POST /v1/apply")


def test_an_unknown_kind_lists_the_known_ones(lucid):
    result = lucid("get", "widgets")

    assert result.returncode == 1
    assert "unknown kind 'widgets'" in result.stderr
    assert "trafficpolicies" in result.stderr


def test_the_server_log_never_holds_the_token(lucid, server, write):
    path = write(
        "s.yaml",
        """
        apiVersion: lucid.mesh/v1
        kind: EventSubscription
        spec: {subscriberId: log-check, eventTypes: [session.*]}
    """,
    )
    assert lucid("apply", "-f", str(path)).returncode == 0
    assert lucid("delete", "subscription", "log-check").returncode == 0

    log = server.log_text()
    assert "POST /v1/apply" in log
    assert server.token not in log
    assert str(server.data_dir / "api-token") in log
