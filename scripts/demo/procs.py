"""The demo's child processes as the kernel sees them (Linux `/proc`), by PID.

The harness stops each process it started by its PID; this module lets the demo, and
the test that runs the demo, check that from outside: which processes a PID has started
(parent PID in `/proc/<pid>/stat`), and whether one of them is still running. A process
is named by its PID and its start time (clock ticks since boot), so a PID the kernel has
since given to an unrelated process does not count as a survivor. Where `/proc` does not
exist, nothing is found.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent PID, start time) of a process, or None when it does not exist."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and ")"
    return fields[0], int(fields[1]), int(fields[19])


def children(parent: int) -> dict[int, int]:
    """Running children of `parent`: PID -> start time."""
    found: dict[int, int] = {}
    for entry in PROC.glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None and stat[1] == parent and stat[0] != "Z":
            found[int(entry.name)] = stat[2]
    return found


def running(pid: int, started: int) -> bool:
    """Whether the process that had this PID and start time still runs (zombies do not)."""
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] != "Z"
