"""The real `lucid` command against a real `lucid serve` process.

One server per test module (a scratch data directory, an embedded SQLite store, a free
port), stopped by its PID when the module is done; each `lucid` call is a subprocess with
a clean environment that points at that server, as an operator's shell would.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness.lucid import LucidServer, runner, start_lucid_server
from tests.e2e.harness.processes import ROOT, clean_env, free_port

__all__ = ["ROOT", "Run", "Served", "clean_env", "runner", "start_server", "stop_server"]

Run = Callable[..., subprocess.CompletedProcess[str]]
Served = LucidServer  # the server, its data dir and log: shared with the end-to-end harness


def start_server(data_dir: Path) -> Served:
    return start_lucid_server(data_dir)


def stop_server(served: Served) -> int:
    """SIGTERM by PID, then SIGKILL if it does not stop in time; the exit code."""
    return served.stop()


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
