"""A real `lucid serve`: instances register with the registration token file, `lucid get
services` shows status, last check and TTL left, and no token reaches the log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import builders
from tests.cli.conftest import Served, start_server, stop_server
from tests.registry.conftest import HttpUpstream, bearer, upstream_registration

LUCID = Path(sys.executable).parent / "lucid"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = start_server(tmp_path / "data")
    try:
        yield server
    finally:
        stop_server(server)


def lucid(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
    env.update(LUCID_SERVER=served.url, LUCID_DATA_DIR=str(served.data_dir), NO_COLOR="1")
    return subprocess.run(
        [str(LUCID), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_an_instance_registers_heartbeats_and_shows_in_lucid_get(served, tmp_path):
    registration_token = (served.data_dir / "registration-token").read_text().strip()
    assert (served.data_dir / "registration-token").stat().st_mode & 0o077 == 0
    upstream = HttpUpstream()
    try:
        body = {**upstream_registration(1, upstream.port), "ttl": 120}
        with httpx.Client(base_url=served.url, timeout=10) as client:
            created = client.post("/v1/services", json=body, headers=bearer(registration_token))
            assert created.status_code == 201, created.text
            token = created.json()["serviceToken"]
            path = f"/v1/services/{body['serviceId']}"
            assert client.put(f"{path}/heartbeat", headers=bearer(token)).status_code == 200
            for _ in range(200):  # the first check comes within a second or so
                if client.get(path).json()["status"].get("lastHealthCheck") is not None:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("no health check within 10 s")
    finally:
        upstream.close()

    listed = lucid(served, "get", "services")

    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split() == [
        "NAME",
        "SERVICE-ID",
        "CLUSTER",
        "PLANE",
        "STATUS",
        "LAST-CHECK",
        "TTL-LEFT",
        "ENDPOINT",
    ]
    cells = row.split()
    assert cells[:5] == ["payments", body["serviceId"], "blockchain-core", "chain", "healthy"]
    assert cells[5].endswith("s") and cells[6] == "ago"  # "3s ago"
    assert 100 <= int(cells[7].rstrip("s")) <= 120
    log = served.log_text()
    assert token not in log and registration_token not in log and served.token not in log


def test_the_operator_token_is_not_a_registration_of_anyone(served):
    with httpx.Client(base_url=served.url, timeout=10) as client:
        created = client.post(
            "/v1/services", json=builders.registration(), headers=bearer(served.token)
        )
        heartbeat = client.put(
            f"/v1/services/{builders.SERVICE_ID}/heartbeat", headers=bearer(served.token)
        )

    assert created.status_code == 201
    assert heartbeat.status_code == 403
