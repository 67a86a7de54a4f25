"""The `boot` lines of `compose/mesh-setup.sh` work: run against a real `lucid serve`
holding the examples, each prints a bootstrap that `envoy --mode validate` accepts.

This is what the `mesh-setup` container does, minus Docker: the same `lucid apply` of
the examples, the same `lucid bootstrap` arguments (xDS at `control-plane:18000`, a host
name Envoy resolves only when it runs, so validation needs no DNS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.compose.conftest import ROOT, SETUP_SCRIPT
from tests.e2e.harness.envoy import validate_config
from tests.e2e.harness.lucid import LucidServer, runner, start_lucid_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LucidServer]:
    served = start_lucid_server(tmp_path_factory.mktemp("compose-data"))
    try:
        yield served
    finally:
        served.stop()


def test_every_boot_line_prints_a_bootstrap_envoy_accepts(
    server: LucidServer, boots: dict[str, list[str]], tmp_path: Path
) -> None:
    lucid = runner(server.cli_env())
    script = SETUP_SCRIPT.read_text()
    assert "lucid apply -f /examples/services /examples/policies" in script
    applied = lucid("apply", "-f", str(ROOT / "examples/services"), str(ROOT / "examples/policies"))
    assert applied.returncode == 0, applied.stderr
    common = ["--xds-address", "control-plane:18000", "--admin-port", "9901"]
    common += ["--outbound-port", "15001"]
    assert " ".join(common) in " ".join(script.replace("\\\n", " ").split())
    for instance, args in boots.items():
        printed = lucid("bootstrap", "--instance", instance, *common, *args)
        assert printed.returncode == 0, f"{instance}: {printed.stderr}"
        bootstrap = yaml.safe_load(printed.stdout)
        assert bootstrap["node"]["id"] == instance
        path = tmp_path / f"{instance}.json"
        path.write_text(json.dumps(bootstrap))
        verdict = validate_config(path, log_level="info")
        assert verdict.returncode == 0, f"{instance}: {verdict.stdout}{verdict.stderr}"
