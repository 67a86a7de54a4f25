"""Fixtures of the end-to-end suite: real `lucid serve`, real Envoys, real upstream apps.

Scenario modules build one mesh each (module scope) with `mesh_in`, so the sidecars and
the server start once per module; everything is stopped by PID when the module ends.
Which Envoy runs the sidecars follows `LUCID_ENVOY_RUNNER` (local binary by default).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness.envoy import EnvoyRunner, runner_from_env
from tests.e2e.harness.lucid import runner
from tests.e2e.harness.mesh import Mesh, running_mesh
from tests.e2e.harness.processes import LUCID, clean_env

BOOTSTRAP_ENV = "LUCID_E2E_BOOTSTRAP"
# Live-update scenario: change → seconds until the first answer showing it. Printed at the
# end of the run (the closing note reports these).
PROPAGATION: dict[str, float] = {}


def bootstrap_mode() -> str:
    """`xds` (sidecars from `lucid bootstrap`) unless LUCID_E2E_BOOTSTRAP=static."""
    return os.environ.get(BOOTSTRAP_ENV, "xds")


def xds_available() -> bool:
    done = runner(clean_env())("bootstrap", "--help")
    return done.returncode == 0


@pytest.fixture(scope="session")
def envoy_runner() -> EnvoyRunner:
    return runner_from_env()


@pytest.fixture(scope="module")
def mesh_in(
    tmp_path_factory: pytest.TempPathFactory, envoy_runner: EnvoyRunner
) -> Iterator[Callable[..., AbstractContextManager[Mesh]]]:
    """`with mesh_in() as mesh:` a started mesh in a scratch folder of this module."""
    mode = bootstrap_mode()
    if mode == "xds" and not xds_available():
        pytest.skip(f"{LUCID} has no `bootstrap` command yet (the xDS server has not landed)")

    def make(**options: Any) -> AbstractContextManager[Mesh]:
        workdir: Path = tmp_path_factory.mktemp("mesh")
        options.setdefault("envoy_runner", envoy_runner)
        options.setdefault("bootstrap", mode)
        return running_mesh(workdir, **options)

    yield make


@pytest.fixture(scope="session")
def propagation() -> dict[str, float]:
    return PROPAGATION


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not PROPAGATION:
        return
    terminalreporter.section("live updates: `lucid apply`/`delete` → first answer showing it")
    for change, seconds in PROPAGATION.items():
        terminalreporter.write_line(f"{seconds * 1000:8.0f} ms  {change}")
