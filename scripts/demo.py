"""`make demo`: the example services behind real Envoy sidecars, each policy seen working.

Runs what a new user would run, through the end-to-end harness (`tests/e2e/harness/`):
`lucid serve` on an embedded SQLite store in a scratch directory (free ports), the
examples applied, each example instance started as a local app with an Envoy sidecar
bootstrapped by `lucid bootstrap` (the gateway with its edge listener), then traffic
through the gateway (`scripts/demo/checks.py`) and a table of what each policy did to it.
What the demo changes in or adds to `examples/` is in `scripts/demo/topology.py`, and is
printed.

Exit code: 0 when every policy was seen working, 1 when one was not or something failed,
130 on Ctrl-C (143 on SIGTERM). However it ends, every process it started is stopped by
its PID before it exits (a second Ctrl-C during that is ignored).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `scripts.demo` and the harness in `tests/e2e/harness`

from scripts.demo import checks, procs, topology  # noqa: E402
from tests.e2e.harness.mesh import Mesh, MeshError  # noqa: E402
from tests.e2e.harness.processes import ProcessError  # noqa: E402

TABLE = "{:<7} {:<21} {:<40} {}"


def say(text: str = "") -> None:
    print(text, flush=True)


def print_table(rows: list[checks.Row]) -> None:
    say()
    say(TABLE.format("result", "policy", "declared in", "seen"))
    for row in rows:
        say(TABLE.format("ok" if row.ok else "FAILED", row.policy, row.declared, row.seen))


def run(mesh: Mesh, started: float) -> int:
    """Everything between `lucid serve` answering and the table; the exit code."""
    server = mesh.server
    assert server is not None
    say(f"lucid serve: {server.url}, data in {server.data_dir}")
    say("$ lucid validate -f examples/")
    mesh.run("validate", "-f", str(topology.EXAMPLES))
    say("starting the example apps, applying examples/, starting the Envoy sidecars ...")
    demo = topology.build(mesh)
    say(f"applied {demo.documents} documents: examples/ and what the demo adds:")
    for extra in topology.EXTRAS:
        say(f"  + {extra}")
    sidecars = sum(1 for i in mesh.instances.values() if i.envoy is not None)
    pids = " ".join(map(str, sorted(procs.children(os.getpid()))))
    say(f"running lucid serve, {len(mesh.instances)} apps, {sidecars} sidecars: pids {pids}")
    say(f"up in {time.monotonic() - started:.1f} s; traffic through the gateway {demo.edge_url}:")
    rows = checks.drive(demo, lambda step: say(f"  {step} ..."))
    print_table(rows)
    failed = [r.policy for r in rows if not r.ok]
    if failed:
        say(f"\nNOT seen working: {', '.join(failed)}")
        return 1
    say(f"\nall {len(rows)} policies seen working")
    return 0


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`, which stops everything


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminated)
    say("Lucid Mesh demo: the examples behind real Envoy sidecars (Ctrl-C stops it)")
    with tempfile.TemporaryDirectory(prefix="lucid-demo-") as scratch:
        mesh = Mesh(Path(scratch))
        try:
            mesh.start()
            code = run(mesh, started)
        except KeyboardInterrupt:
            say("\ninterrupted")
            code = 130
        except (ProcessError, MeshError, TimeoutError) as exc:
            print(f"\ndemo failed: {exc}", file=sys.stderr, flush=True)
            code = 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            say("stopping the sidecars, the apps and lucid serve ...")
            mesh.close()
    say(f"everything stopped; the demo took {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
