"""Run the real Envoy (`envoy --mode validate`) over many rendered bootstraps, two at a time.

Each bootstrap is a file in a scratch folder; each Envoy gets `--use-dynamic-base-id` so
several can run at once, and is waited for by its own subprocess call (never killed by
name). Two workers: the machine has two cores shared with everything else.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.e2e.harness.envoy import validate_config

WORKERS = 2


def envoy_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return validate_config(path)


def validate_all(
    bootstraps: Mapping[str, dict[str, Any]], folder: Path
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Label → Envoy's verdict on that bootstrap."""
    paths = {}
    for number, (label, bootstrap) in enumerate(sorted(bootstraps.items())):
        path = folder / f"{number:03d}.json"
        path.write_text(json.dumps(bootstrap, indent=1))
        paths[label] = path
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        verdicts = dict(zip(paths, pool.map(envoy_validate, paths.values()), strict=True))
    return verdicts
