"""`lucid serve` as a child process, and the `lucid` command pointed at it.

The end-to-end tests, the CLI tests and `make demo` all run the real console script
(`.venv/bin/lucid`) as an operator would: `lucid serve` in its own process on a scratch
data directory (an embedded SQLite file unless a store URL is given) with free ports for
the API and for xDS, stopped by its PID; each `lucid` call a subprocess with a clean
environment that names that server.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.e2e.harness.processes import (
    LUCID,
    ROOT,
    Process,
    ProcessError,
    clean_env,
    free_port,
)

Run = Callable[..., subprocess.CompletedProcess[str]]
CLI_TIMEOUT = 60


@cache
def serve_options() -> frozenset[str]:
    """The options this `lucid serve` understands (the xDS ones arrive with the xDS server)."""
    text = subprocess.run(
        [str(LUCID), "serve", "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT
    ).stdout
    return frozenset(word.rstrip(",") for word in text.split() if word.startswith("--"))


@dataclass
class LucidServer:
    """A running `lucid serve`: its API URL, xDS port, data directory and log."""

    url: str
    data_dir: Path
    log: Path
    process: Process
    xds_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return (self.data_dir / "api-token").read_text().strip()

    def log_text(self) -> str:
        return self.process.log_text()

    def cli_env(self, **extra: str) -> dict[str, str]:
        """The environment of an operator's shell that talks to this server."""
        return clean_env(LUCID_SERVER=self.url, LUCID_DATA_DIR=str(self.data_dir), **extra)

    def stop(self) -> int:
        """SIGTERM by PID, SIGKILL if it hangs; the exit code."""
        return self.process.stop()


def start_lucid_server(
    data_dir: Path,
    *,
    store_url: str | None = None,
    xds: bool = True,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> LucidServer:
    """`lucid serve` on free ports, waited for until `/healthz` answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [str(LUCID), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    xds_port = None
    if xds and "--xds-port" in serve_options():
        xds_port = free_port()
        argv += ["--xds-port", str(xds_port)]
    if store_url is not None:
        argv += ["--store", store_url]
    argv += list(extra_args)
    log = data_dir / "serve.log"
    process = Process("lucid serve", argv, log, env=env or clean_env(), cwd=ROOT)
    served = LucidServer(f"http://127.0.0.1:{port}", data_dir, log, process, xds_port)
    try:
        process.wait_http(f"{served.url}/healthz")
    except ProcessError as exc:
        raise ProcessError(f"lucid serve did not start: {exc}") from exc
    return served


def runner(env: dict[str, str], cwd: Path = ROOT) -> Run:
    """A function that runs `lucid ARGS...` in `env` and returns the completed process."""

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LUCID), *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            cwd=cwd,
        )

    return run
