"""The compose file, its setup script and the example registrations, parsed once.

No Docker engine runs here, so `compose/` is checked by reading it: PyYAML for the
compose file (anchors and merge keys resolved as compose resolves them), shlex for the
`boot` lines of the setup script, and the spec models for the examples.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yaml"
SETUP_SCRIPT = COMPOSE_DIR / "mesh-setup.sh"


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def option(argv: list[str], name: str) -> str | None:
    """The value after `name` in an argument list (the last one if repeated)."""
    values = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == name]
    return values[-1] if values else None


@pytest.fixture(scope="session")
def boots() -> dict[str, list[str]]:
    """Instance id → the arguments of its `boot` line in the setup script."""
    found = {}
    for line in SETUP_SCRIPT.read_text().replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["boot"] and len(words) > 1:
            found[words[1]] = words[2:]
    return found


@pytest.fixture(scope="session")
def example_registrations() -> dict[str, dict[str, Any]]:
    """instanceId → the spec of each ServiceRegistration in examples/services."""
    found = {}
    for path in sorted((ROOT / "examples" / "services").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "ServiceRegistration":
                spec = document["spec"]
                found[spec["instanceId"]] = spec
    return found
