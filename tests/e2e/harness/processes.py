"""Child processes for the end-to-end harness: free ports, logs in files, stop by PID.

Every long-running part of an end-to-end run (`lucid serve`, each Envoy, each upstream app)
is a `Process`: started with its stdout and stderr in a log file, waited for until it
answers (a TCP port or an HTTP URL), and stopped by its own PID, SIGTERM first and
SIGKILL if it does not exit in time, never by name. The launching Python process stays
alive for as long as its children run (DESIGN.md: an Envoy whose parent exited was seen
to receive SIGTERM). Each child gets a session of its own, so a Ctrl-C in the terminal
reaches only the harness, which then stops the children in order; whatever is still
running when the interpreter exits is stopped by an `atexit` hook.

No pytest here: `scripts/demo.py` uses the same harness.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
PYTHON = Path(sys.executable)
LUCID = BIN / "lucid"
ENVOY = BIN / "envoy"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL = 0.05

_live: set[Process] = set()
_live_lock = threading.Lock()


class ProcessError(RuntimeError):
    """A child did not start, exited early, or did not become ready; the message has its log."""


_handed_out: set[int] = set()
_ports_lock = threading.Lock()


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice, on loopback), and one
    this process has not handed out before.

    A port is chosen well before its owner binds it (a mesh picks every instance's ports,
    then starts the sidecars), and the kernel may offer a port that is still unbound to
    the next caller. Two parts of one mesh then share a port: a CI run had a sidecar's
    outbound listener lose its port to another instance's app, so calls went to that app
    directly, past both sidecars. Remembering what was handed out rules that out.
    """
    with _ports_lock:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without LUCID_* settings (and NO_COLOR), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = POLL,
    describe: Callable[[], str] | None = None,
) -> None:
    """Poll `condition` until it holds; TimeoutError naming `what` (and `describe()`) if not."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            detail = f"\n{describe()}" if describe else ""
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


class Process:
    """One child process with its log file; `stop()` ends it by PID and returns its code."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            self.popen: subprocess.Popen[bytes] = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        with _live_lock:
            _live.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_text(self, tail: int | None = None) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return text[-tail:] if tail else text

    def check_alive(self) -> None:
        if not self.running():
            raise ProcessError(
                f"{self.name} exited with code {self.popen.returncode}:\n{self.log_text(8000)}"
            )

    def wait_ready(self, ready: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
        """Wait until `ready()` holds while the process runs; stop it and raise if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if ready():
                return
            time.sleep(POLL)
        self.stop()
        raise ProcessError(
            f"{self.name} was not ready within {timeout:.0f} s:\n{self.log_text(8000)}"
        )

    def wait_port(self, port: int, host: str = "127.0.0.1", timeout: float = START_TIMEOUT) -> None:
        self.wait_ready(lambda: port_open(port, host), timeout)

    def wait_http(self, url: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until GET `url` answers 200."""

        def answers() -> bool:
            try:
                return httpx.get(url, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait_ready(answers, timeout)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM by PID, then SIGKILL if it has not exited within `timeout`; the exit code."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        with _live_lock:
            _live.discard(self)
        return self.popen.returncode

    def __repr__(self) -> str:
        return f"Process({self.name!r}, pid={self.pid})"


def python_process(name: str, script: Path, args: Sequence[str | int], log: Path) -> Process:
    """A Python script of this repository run by the venv's interpreter (unbuffered)."""
    env = clean_env(PYTHONUNBUFFERED="1")
    return Process(name, [str(PYTHON), str(script), *map(str, args)], log, env=env, cwd=ROOT)


@atexit.register
def _stop_leftovers() -> None:
    with _live_lock:
        leftovers = list(_live)
    for process in leftovers:
        process.stop(timeout=3)
