"""`make demo`: start Lucid Mesh, apply the examples, show what is stored, stop cleanly.

Everything runs as a new user would type it: the venv's `lucid serve` in its own process
(a scratch data directory, an embedded SQLite store, a free port), then `lucid apply` and
`lucid get` against it. The server is stopped by its PID (SIGTERM, then SIGKILL if it
hangs) however the demo ends, Ctrl-C and SIGTERM included, so no server is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from lucid.kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LUCID = Path(sys.executable).parent / "lucid"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"lucid serve exited with code {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"lucid serve did not answer {url}/healthz within {START_TIMEOUT:.0f} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def step(title: str, *args: str, env: dict[str, str]) -> None:
    print(f"\n$ lucid {' '.join(args)}   # {title}", flush=True)
    subprocess.run([str(LUCID), *args], env=env, check=True)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`, which stops the server


def main() -> int:
    signal.signal(signal.SIGTERM, _terminated)
    with tempfile.TemporaryDirectory(prefix="lucid-demo-") as scratch:
        data_dir = Path(scratch)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
        env.update(LUCID_DATA_DIR=str(data_dir), LUCID_SERVER=url)
        log_path = data_dir / "serve.log"
        print(f"Starting lucid serve on {url} (data in {data_dir})", flush=True)
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    str(LUCID),
                    "serve",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data_dir),
                    "--store",
                    f"sqlite://{(data_dir / 'lucid.db').as_posix()}",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the demo, which stops the server
            )
        try:
            wait_healthy(url, server)
            step("validate offline", "validate", "-f", str(EXAMPLES), env=env)
            step("store every example in one atomic write", "apply", "-f", str(EXAMPLES), env=env)
            for kind in KINDS:
                step(f"list {kind.name}", "get", kind.plural, env=env)
            step("apply again: nothing changes", "apply", "-f", str(EXAMPLES), env=env)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"\ndemo failed: {exc}\n--- server log ---", file=sys.stderr)
            print(log_path.read_text(errors="replace")[-4000:], file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        finally:
            stop(server)
        print(f"\nStopped lucid serve (pid {server.pid}, exit code {server.returncode}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
