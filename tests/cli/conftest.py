"""The real `lucid` command against a real `lucid serve` process.

One server per test module (a scratch data directory, an embedded SQLite store, a free
port), stopped by its PID when the module is done; each `lucid` call is a subprocess with
a clean environment that points at that server, as an operator's shell would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

LUCID = Path(sys.executable).parent / "lucid"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0

Run = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


@dataclass
class Served:
    url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def token(self) -> str:
        return (self.data_dir / "api-token").read_text().strip()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(data_dir: Path) -> Served:
    port = free_port()
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(LUCID), "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", data_dir, log, process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"lucid serve exited early:\n{served.log_text()}")
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1.0).status_code == 200:
                return served
        except httpx.HTTPError:
            time.sleep(0.05)
    stop_server(served)
    raise RuntimeError(f"lucid serve did not start:\n{served.log_text()}")


def stop_server(served: Served) -> int:
    """SIGTERM by PID, then SIGKILL if it does not stop in time; the exit code."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()
    return served.process.returncode


def runner(env: dict[str, str]) -> Run:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LUCID), *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )

    return run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_server(tmp_path_factory.mktemp("lucid-data"))
    try:
        yield served
    finally:
        stop_server(served)


@pytest.fixture
def lucid(server: Served) -> Run:
    """`lucid` pointed at the module's server, finding the token as an operator would."""
    return runner(clean_env(LUCID_SERVER=server.url, LUCID_DATA_DIR=str(server.data_dir)))


@pytest.fixture
def offline_lucid(tmp_path: Path) -> Run:
    """`lucid` with no server anywhere: its URL points at a port nothing listens on."""
    return runner(
        clean_env(
            LUCID_SERVER=f"http://127.0.0.1:{free_port()}", LUCID_DATA_DIR=str(tmp_path / "no-data")
        )
    )


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write
