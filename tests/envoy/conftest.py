"""Real Envoys bootstrapped by `lucid bootstrap`, against a real `lucid serve`.

Built on the end-to-end harness (`tests/e2e/harness`): each test gets its own mesh (a
`lucid serve` on free ports, apps, sidecars), everything stopped by PID afterwards.
`TRANSPORTS` runs a scenario once with state-of-the-world ADS and once with delta.
Status comes from the real CLI (`lucid proxy-status -o json`), as an operator sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness.mesh import Instance, Mesh, running_mesh
from tests.e2e.harness.processes import wait_until

TRANSPORTS = pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
WAIT = 30.0  # seconds a condition may take before the test fails (a hang guard)


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    with running_mesh(tmp_path) as started:
        yield started


def proxies(mesh: Mesh) -> dict[str, dict[str, Any]]:
    """`lucid proxy-status -o json`, by node id."""
    data = json.loads(mesh.run("proxy-status", "-o", "json").stdout)
    return {p["nodeId"]: p for p in data["items"]}


def eventually(condition: Callable[[], bool], what: str, mesh: Mesh | None = None) -> None:
    describe = (lambda: mesh.server.log_text()[-4000:]) if mesh and mesh.server else None
    wait_until(condition, timeout=WAIT, what=what, describe=describe)


def synced(mesh: Mesh, node: str, types: tuple[str, ...] = ("CDS", "EDS", "LDS", "RDS")) -> bool:
    proxy = proxies(mesh).get(node)
    return proxy is not None and all(proxy["types"].get(t, {}).get("inSync") for t in types)


def answered_by(caller: Instance, destination: str) -> str | None:
    """Which instance answered a request from `caller` to `destination` (None: it failed)."""
    response = caller.call(destination, "/whoami")
    return response.headers.get("x-app-instance") if response.status_code == 200 else None


def caller_and_backend(mesh: Mesh, *, delta: bool) -> tuple[Instance, Instance]:
    caller = mesh.add_instance("caller")
    backend = mesh.add_instance("backend")
    mesh.register()
    mesh.start_sidecars(delta=delta)
    return caller, backend
