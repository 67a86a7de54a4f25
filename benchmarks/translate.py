"""Translation speed: a full mesh, then one policy changed (DESIGN.md targets).

Full: `build_state` + every node's resources (3,000 sidecars for 1,000 services x 3
instances) + the pre-publish consistency check + serializing each distinct resource once
(versions are hashes of those bytes). Incremental: one traffic policy changed, the new
state translated with the previous translation to reuse from, and only new resources
serialized; then the same with one instance's health flipped (the registry's most frequent
change). Runs with the server's garbage-collector settings (`lucid.runtime.tune_gc`;
`--default-gc` for CPython's). Prints JSON (with machine, versions and commit) and a short
table.

    .venv/bin/python benchmarks/translate.py [--services 1000] [--repeat 5] [--unscoped]
                                             [--default-gc]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.meshgen import generate
from lucid.models import TrafficPolicy
from lucid.render import sidecar_nodes
from lucid.runtime import tune_gc
from lucid.translators.mesh import Translation
from lucid.translators.node import Node
from lucid.translators.state import Identity, build_state

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
TARGET_FULL_MS = 500.0
TARGET_INCREMENTAL_MS = 10.0


class Serializer:
    """Serialize each distinct message once (by identity), as the xDS cache does."""

    def __init__(self) -> None:
        self.versions: dict[int, tuple[object, str]] = {}
        self.bytes = 0

    def publish(self, translation: Translation, nodes: list[Node]) -> int:
        """Serialize what the nodes of affected services receive (all nodes the first time)."""
        affected = translation.affected_services()
        if affected is not None:
            nodes = [n for n in nodes if n.service in affected]
        fresh = 0
        for node in nodes:
            resources = translation.node(node)
            translation.check(resources)
            for named in resources.resources.values():
                for message in named.values():
                    if id(message) in self.versions:
                        continue
                    data = message.SerializeToString(deterministic=True)
                    self.bytes += len(data)
                    version = hashlib.sha256(data).hexdigest()[:16]
                    self.versions[id(message)] = (message, version)
                    fresh += 1
        return fresh


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def changed_policy(policy: TrafficPolicy, round_: int) -> TrafficPolicy:
    return policy.model_copy(update={"priority": 100 + (policy.priority + round_) % 800})


def run(args: argparse.Namespace) -> dict[str, Any]:
    registrations, sidecars, traffic, security = generate(
        args.services, args.instances, args.traffic, args.security, scoped=not args.unscoped
    )
    # Certificates come from the mesh CA at run time; their content does not matter here.
    identities = {r.serviceName: Identity(PEM, PEM) for r in registrations}
    extra = {"identities": identities, "trust_bundle": PEM}
    full: list[float] = []
    stages: dict[str, list[float]] = {"state": [], "translate": [], "serialize": []}
    translation: Translation | None = None
    nodes: list[Node] = []
    resources = 0
    for _ in range(args.repeat):
        ms_state, state = timed(
            lambda: build_state(registrations, sidecars, traffic, security, **extra)
        )
        nodes = sidecar_nodes(state)
        translation = Translation(state)
        ms_translate, _ = timed(lambda: [translation.node(n) for n in nodes])  # noqa: B023
        serializer = Serializer()
        ms_serialize, resources = timed(lambda: serializer.publish(translation, nodes))  # noqa: B023
        stages["state"].append(ms_state)
        stages["translate"].append(ms_translate)
        stages["serialize"].append(ms_serialize)
        full.append(ms_state + ms_translate + ms_serialize)
    assert translation is not None
    incremental: list[float] = []
    rebuilt: list[int] = []
    previous = translation
    serializer = Serializer()
    serializer.publish(previous, nodes)
    for round_ in range(1, args.repeat + 1):
        index = (round_ * 37) % len(traffic)
        traffic = [*traffic[:index], changed_policy(traffic[index], round_), *traffic[index + 1 :]]

        def step(policies: list[TrafficPolicy], before: Translation) -> tuple[Translation, int]:
            state = build_state(
                registrations, sidecars, policies, security, previous=before.state, **extra
            )
            current = Translation(state, previous=before)
            return current, serializer.publish(current, nodes)

        ms, (previous, fresh) = timed(lambda: step(traffic, previous))  # noqa: B023
        incremental.append(ms)
        rebuilt.append(fresh)
    # The registry's most frequent change: one instance's health flips.
    health: list[float] = []
    statuses = {r.serviceId: "healthy" for r in registrations}
    previous = Translation(
        build_state(registrations, sidecars, traffic, security, statuses=statuses, **extra)
    )
    serializer.publish(previous, nodes)
    for round_ in range(1, args.repeat + 1):
        flipped = registrations[(round_ * 97) % len(registrations)].serviceId
        statuses[flipped] = "unhealthy" if statuses[flipped] == "healthy" else "healthy"

        def flip(before: Translation) -> Translation:
            state = build_state(
                registrations,
                sidecars,
                traffic,
                security,
                statuses=statuses,
                previous=before.state,
                **extra,
            )
            current = Translation(state, previous=before)
            serializer.publish(current, nodes)
            return current

        ms, previous = timed(lambda: flip(previous))  # noqa: B023
        health.append(ms)
    return {
        "benchmark": "translate",
        "mesh": {
            "services": args.services,
            "instances": args.instances,
            "nodes": len(nodes),
            "traffic_policies": args.traffic,
            "security_policies": args.security,
            "scoped_by_dependencies": not args.unscoped,
        },
        "full_ms": {
            "median": statistics.median(full),
            "min": min(full),
            "max": max(full),
            # The first run also fills the process-wide caches (retry policies, regexes,
            # protocol options); later runs find them, as a long-running server does.
            "first": full[0],
        },
        "full_stages_median_ms": {k: statistics.median(v) for k, v in stages.items()},
        "distinct_resources": resources,
        "serialized_bytes": serializer.bytes,
        "incremental_ms": {
            "median": statistics.median(incremental),
            "min": min(incremental),
            "max": max(incremental),
        },
        "incremental_resources_reserialized_median": statistics.median(rebuilt),
        "incremental_health_flip_ms": {
            "median": statistics.median(health),
            "min": min(health),
            "max": max(health),
        },
        "targets_ms": {"full": TARGET_FULL_MS, "incremental": TARGET_INCREMENTAL_MS},
        "machine": machine(),
    }


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    import google.protobuf

    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "protobuf": google.protobuf.__version__,
        "commit": commit or "unknown",
    }


def table(result: dict[str, Any]) -> str:
    mesh = result["mesh"]
    rows = [
        (
            "mesh",
            f"{mesh['services']} services x {mesh['instances']} = {mesh['nodes']} nodes, "
            f"{mesh['traffic_policies']} traffic + {mesh['security_policies']} security policies",
        ),
        (
            "full translation (median)",
            f"{result['full_ms']['median']:.0f} ms (target < {TARGET_FULL_MS:.0f} ms)",
        ),
        ("  first run (cold caches)", f"{result['full_ms']['first']:.0f} ms"),
        (
            "  state / translate / check+serialize",
            " / ".join(f"{v:.0f}" for v in result["full_stages_median_ms"].values()) + " ms",
        ),
        (
            "incremental, one policy (median)",
            f"{result['incremental_ms']['median']:.1f} ms "
            f"(target < {TARGET_INCREMENTAL_MS:.0f} ms)",
        ),
        ("  resources re-serialized", str(result["incremental_resources_reserialized_median"])),
        (
            "incremental, one health flip (median)",
            f"{result['incremental_health_flip_ms']['median']:.1f} ms",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--traffic", type=int, default=1000)
    parser.add_argument("--security", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--unscoped", action="store_true", help="no metadata.dependencies")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument(
        "--default-gc", action="store_true", help="CPython's collector settings, not the server's"
    )
    args = parser.parse_args()
    if not args.default_gc:
        tune_gc()  # as `lucid serve` does at start-up (lucid/runtime.py)
    result = run(args)
    result["gc_thresholds"] = list(gc.get_threshold())
    text = json.dumps(result, indent=2)
    print(text)
    print()
    print(table(result))
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
