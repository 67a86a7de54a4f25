"""Run the real Envoy (`envoy --mode validate`) over many rendered bootstraps, two at a time.

Each bootstrap is a file in a scratch folder; each Envoy gets `--use-dynamic-base-id` so
several can run at once, and is waited for by its own subprocess call (never killed by
name). Two workers: the machine has two cores shared with everything else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ENVOY = Path(sys.executable).parent / "envoy"
WORKERS = 2


def envoy_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(ENVOY),
            "--mode",
            "validate",
            "--use-dynamic-base-id",
            "-c",
            str(path),
            "--log-level",
            "warn",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


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
