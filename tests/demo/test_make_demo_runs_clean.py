"""`make demo` as a user runs it: `scripts/demo.py` in its own process, the real thing.

Each test starts the demo in a session of its own (as a terminal would run it) and, while
it runs, records every process it starts and their children (PID and start time, read
from `/proc`, so a reused PID is not mistaken for a survivor). The first test lets it
finish: exit code 0, a table row per policy marked ok, and none of the recorded processes
still running. The second presses Ctrl-C (SIGINT to the demo's process group) once every
process is up and traffic flows: exit code 130, and again nothing left running.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.demo import procs

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo.py"
TIME_LIMIT = 90.0
POLICIES = (
    "weighted split 90/10",
    "mTLS",
    "retries",
    "rate limit",
    "deny",
    "redirect",
    "mirror 25 %",
    "edge rate limit",
    "timeout",
)
# lucid serve, 7 apps (5 example instances, the canary, session-audit), 5 sidecars.
LONG_RUNNING = 13


class DemoRun:
    """The demo as a child process, its output in a file, its processes recorded."""

    def __init__(self, tmp_path: Path) -> None:
        self.output = tmp_path / "demo.out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(DEMO)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        self.seen: dict[int, int] = {}

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def record(self) -> None:
        """Add the demo's descendants running now to `seen`."""
        parents = [self.process.pid]
        while parents:
            for pid, started in procs.children(parents.pop()).items():
                self.seen[pid] = started
                parents.append(pid)

    def wait(self, *, interrupt_after: str | None = None) -> int:
        """Record processes until the demo exits; SIGINT its group once `interrupt_after`
        is printed. Kills the group and fails if it runs past the time limit."""
        deadline = time.monotonic() + TIME_LIMIT
        while self.process.poll() is None:
            self.record()
            if interrupt_after is not None and interrupt_after in self.text():
                os.killpg(self.process.pid, signal.SIGINT)
                interrupt_after = None
            if time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise AssertionError(f"the demo ran over {TIME_LIMIT:.0f} s:\n{self.text()}")
            time.sleep(0.05)
        return self.process.returncode

    def survivors(self) -> list[int]:
        return [pid for pid, started in self.seen.items() if procs.running(pid, started)]

    def printed_pids(self) -> set[int]:
        found = re.search(r"sidecars: pids ([\d ]+)", self.text())
        assert found, self.text()
        return {int(pid) for pid in found.group(1).split()}


def test_the_demo_shows_each_policy_working_and_leaves_nothing_running(tmp_path: Path) -> None:
    demo = DemoRun(tmp_path)
    code = demo.wait()
    text = demo.text()
    assert code == 0, text
    for policy in POLICIES:
        assert re.search(rf"^ok\s+{re.escape(policy)}\s", text, re.MULTILINE), (policy, text)
    assert f"all {len(POLICIES)} policies seen working" in text
    assert "FAILED" not in text
    assert len(demo.printed_pids()) == LONG_RUNNING, text
    assert demo.printed_pids() <= set(demo.seen)
    assert demo.survivors() == []


def test_ctrl_c_midway_stops_every_process_the_demo_started(tmp_path: Path) -> None:
    demo = DemoRun(tmp_path)
    code = demo.wait(interrupt_after="traffic through the gateway")
    text = demo.text()
    assert code == 130, text
    assert "interrupted" in text and "everything stopped" in text
    assert demo.printed_pids() <= set(demo.seen)
    assert len(demo.seen) >= LONG_RUNNING
    assert demo.survivors() == []
