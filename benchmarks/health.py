"""Health checking at scale: 1,000 registrations checked against local upstreams.

Upstreams (HTTP servers on a few loopback ports, and one gRPC health server) run in a
child process, so they do not share the checker's event loop. The registrations are
stored first and the registry component then starts over them, as after a restart: this
is the start-up case the phase spreading is for. Alongside it run the xDS push pipeline
(watching a few sidecar nodes) and a ticker measuring event-loop lag. Midway, one HTTP
upstream starts answering 503; a few registrations have a 30 s TTL and never heartbeat.

Reported: check-schedule skew (how late each check started against its slot, waiting for
a concurrency slot included), how evenly start-up checks spread over the interval,
event-loop lag while checks run, detection time of the failing upstream (bound: interval
x failureThreshold), status change -> xDS snapshots published (push latency), and how
late TTL expiries were recorded. Prints JSON (with machine, versions, commit) and a table.

    .venv/bin/python benchmarks/health.py [--registrations 1000] [--duration 45]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lucid.models import ServiceRegistration
from lucid.pipeline.pipeline import Pipeline
from lucid.registry import Registry, RegistryComponent
from lucid.registry.checker import phase
from lucid.registry.health import HealthState
from lucid.store import SQLiteStore
from lucid.translators.node import Node
from lucid.xds.cache import SnapshotCache

INTERVAL = 5
FAILURE_THRESHOLD = 2
SERVICES = 100


# -- the upstream process -------------------------------------------------------------------


async def serve_upstreams(count: int) -> None:
    """HTTP servers answering 200 (503 once told `fail PORT` on stdin) and a gRPC server."""
    import grpc
    from grpc_health.v1 import health_pb2_grpc
    from grpc_health.v1.health import aio as health_aio

    failing: set[int] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                status = b"503 Service Unavailable" if port in failing else b"200 OK"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = [
        await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024) for _ in range(count)
    ]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(json.dumps({"http": ports, "grpc": grpc_port}), flush=True)
    while line := await asyncio.to_thread(sys.stdin.readline):
        command, _, port = line.strip().partition(" ")
        if command == "fail":
            failing.add(int(port))
    await server.stop(None)


# -- the measured registry ------------------------------------------------------------------


class Measured(Registry):
    """The registry, recording when expiries and status transitions reach the store."""

    def __init__(self, store: SQLiteStore) -> None:
        super().__init__(store)
        self.expiry_late: list[float] = []
        self.transitions: list[tuple[float, str, str]] = []
        self.push: list[float] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pipeline: Pipeline | None = None

    def expire(self, service_id: str) -> bool:
        lease = self.leases.get(service_id)
        done = super().expire(service_id)
        if done and lease is not None:
            self.expiry_late.append(time.monotonic() - lease.deadline)
        return done

    def persist_health(self, states: Mapping[str, HealthState]) -> None:
        super().persist_health(states)
        written = time.monotonic()
        self.transitions.extend((written, sid, state.status) for sid, state in states.items())
        if self.loop is not None:
            revision = self.store.revision()
            for _ in states:
                self.loop.call_soon_threadsafe(self._await_push, written, revision)

    def _await_push(self, written: float, revision: int) -> None:
        async def wait() -> None:
            assert self.pipeline is not None
            await self.pipeline.settled(revision)
            self.push.append(time.monotonic() - written)

        asyncio.get_running_loop().create_task(wait())


def registration(number: int, ports: list[int], grpc_port: int, expiring: int) -> dict[str, Any]:
    grpc = number % 10 == 9
    return {
        "serviceId": f"00000000-0000-4000-8000-{number:012d}",
        "serviceName": f"svc-{number % SERVICES:03d}",
        "cluster": "blockchain-core",
        "plane": "chain",
        "version": "1.0.0",
        "endpoint": {
            "host": "127.0.0.1",
            "port": grpc_port if grpc else ports[number % len(ports)],
            "protocol": "grpc" if grpc else "http",
        },
        "healthCheck": {
            "endpoint": "/health",
            "interval": INTERVAL,
            "timeout": 2,
            "retries": 1,
            "successThreshold": 1,
            "failureThreshold": FAILURE_THRESHOLD,
        },
        "ttl": 30 if number < expiring else 3600,
    }


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(v * scale for v in values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "count": len(ordered),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


async def lag_ticker(samples: list[float], stop: asyncio.Event, period: float = 0.01) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + period
        await asyncio.sleep(period)
        samples.append(max(0.0, loop.time() - due))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--upstreams-only",
        str(args.upstreams),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    ports = json.loads(await child.stdout.readline())
    scratch = tempfile.TemporaryDirectory()
    store = SQLiteStore(Path(scratch.name) / "lucid.db")
    registry = Measured(store)
    try:
        started = time.monotonic()
        for number in range(args.registrations):
            body = registration(number, ports["http"], ports["grpc"], args.expiring)
            await asyncio.to_thread(registry.register, ServiceRegistration.model_validate(body))
        register_s = time.monotonic() - started

        cache = SnapshotCache()
        pipeline = Pipeline(store, cache)
        registry.loop, registry.pipeline = asyncio.get_running_loop(), pipeline
        for number in range(args.watched):
            node = Node(
                id=f"node-{number}",
                service=f"svc-{number % SERVICES:03d}",
                service_id=f"00000000-0000-4000-8000-{number:012d}",
                plane="chain",
                cluster="blockchain-core",
                app_port=9000,
                inbound_port=15006,
            )
            cache.watch(node, lambda snapshot, types: None)
        component = RegistryComponent(registry, concurrency=args.concurrency)
        stop = asyncio.Event()
        lags: list[float] = []
        tasks = [
            asyncio.create_task(pipeline.run()),
            asyncio.create_task(component.run()),
            asyncio.create_task(lag_ticker(lags, stop)),
        ]
        await component.started.wait()
        loop = asyncio.get_running_loop()
        start_time = loop.time()
        await asyncio.sleep(INTERVAL + 1)
        assert component.checker is not None
        first_round = len(component.checker.skews)  # the start-up round: every status changes
        await asyncio.sleep(args.flip_after - INTERVAL - 1)
        failing_port = ports["http"][0]
        child.stdin.write(f"fail {failing_port}\n".encode())
        await child.stdin.drain()
        flipped = time.monotonic()
        await asyncio.sleep(args.duration - args.flip_after)
        stop.set()
        component.stop()
        pipeline.stop()
        await asyncio.gather(*tasks)
        checker = component.checker
        assert checker is not None
        elapsed = loop.time() - start_time
    finally:
        child.stdin.close()
        await child.wait()
        store.close()
        scratch.cleanup()

    errors: dict[str, int] = {}
    for number in range(args.registrations):
        state = registry.live_health(f"00000000-0000-4000-8000-{number:012d}")
        if state is not None and state.error:
            kind = state.error.split(":")[0][:40]
            errors[kind] = errors.get(kind, 0) + 1
    bound = INTERVAL * FAILURE_THRESHOLD
    on_failing = {
        f"00000000-0000-4000-8000-{n:012d}"
        for n in range(args.registrations)
        if n % 10 != 9 and n % len(ports["http"]) == 0
    }
    detected = [
        t - flipped
        for t, sid, status in registry.transitions
        if sid in on_failing and status == "unhealthy" and t > flipped
    ]
    offsets = [
        phase(f"00000000-0000-4000-8000-{n:012d}", INTERVAL) for n in range(args.registrations)
    ]
    bins = [0] * 10
    for offset in offsets:
        bins[int(offset / INTERVAL * 10)] += 1
    return {
        "registrations": args.registrations,
        "grpc_registrations": sum(1 for n in range(args.registrations) if n % 10 == 9),
        "http_upstream_ports": len(ports["http"]),
        "interval_s": INTERVAL,
        "concurrency": args.concurrency,
        "run_s": round(elapsed, 1),
        "register_s": round(register_s, 2),
        "checks": checker.checks,
        "checks_per_s": round(checker.checks / elapsed, 1),
        "schedule_skew_ms": percentiles(list(checker.skews)),
        "schedule_skew_after_first_round_ms": percentiles(list(checker.skews)[first_round:]),
        "timer_skew_ms": percentiles(list(checker.timer_skews)),
        "check_duration_ms": percentiles(list(checker.durations)),
        "startup_spread_per_tenth_of_interval": {"min": min(bins), "max": max(bins)},
        "event_loop_lag_ms": percentiles(lags),
        "failing_upstream": {
            "registrations": len(on_failing),
            "detected": len(detected),
            "detection_s": percentiles(detected, scale=1.0),
            "bound_s": bound,
        },
        "last_check_errors": errors,
        "xds_push_after_status_change_ms": percentiles(registry.push),
        "xds_pipeline_rounds": pipeline.rounds,
        "watched_nodes": args.watched,
        "ttl_expiries": {"expected": args.expiring, **percentiles(registry.expiry_late)},
        "machine": machine(),
    }


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {p: metadata.version(p) for p in ("grpcio", "httpx", "protobuf")},
        "commit": commit or "unknown",
    }


def _triple(values: dict[str, Any]) -> str:
    return f"{values.get('p50')} / {values.get('p99')} / {values.get('max')} ms"


def table(result: dict[str, Any]) -> str:
    skew, lag = result["schedule_skew_ms"], result["event_loop_lag_ms"]
    failing, push, ttl = (
        result["failing_upstream"],
        result["xds_push_after_status_change_ms"],
        (result["ttl_expiries"]),
    )
    rows = [
        (
            "registrations",
            f"{result['registrations']} ({result['grpc_registrations']} gRPC), "
            f"interval {result['interval_s']} s, concurrency {result['concurrency']}",
        ),
        ("checks", f"{result['checks']} in {result['run_s']} s ({result['checks_per_s']}/s)"),
        ("schedule skew p50/p99/max", f"{skew['p50']} / {skew['p99']} / {skew['max']} ms"),
        ("  after the start-up round", _triple(result["schedule_skew_after_first_round_ms"])),
        ("  timer alone (no slot wait)", _triple(result["timer_skew_ms"])),
        ("check duration p50/p99/max", _triple(result["check_duration_ms"])),
        (
            "start-up spread per 1/10 interval",
            "{min}..{max} checks".format(**result["startup_spread_per_tenth_of_interval"]),
        ),
        ("event-loop lag p50/p99/max", f"{lag['p50']} / {lag['p99']} / {lag['max']} ms"),
        (
            "failing upstream detected",
            f"{failing['detected']}/{failing['registrations']}, "
            f"p50 {failing['detection_s'].get('p50')} s, max {failing['detection_s'].get('max')} s "
            f"(bound {failing['bound_s']} s)",
        ),
        (
            "xDS published after status change",
            f"p50 {push.get('p50')} ms, p99 {push.get('p99')} "
            f"ms, max {push.get('max')} ms ({push['count']} changes)",
        ),
        (
            "TTL expiry lateness",
            f"{ttl['count']}/{ttl['expected']}, p50 {ttl.get('p50')} ms, max {ttl.get('max')} ms",
        ),
        (
            "machine",
            f"{result['machine']['cpus']} CPUs, Python {result['machine']['python']}, "
            f"commit {result['machine']['commit']}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--upstreams", type=int, default=10, help="HTTP upstream ports")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--duration", type=float, default=45.0, help="seconds of checking")
    parser.add_argument("--flip-after", type=float, default=12.0, help="when one upstream fails")
    parser.add_argument("--expiring", type=int, default=50, help="registrations with a 30 s TTL")
    parser.add_argument("--watched", type=int, default=50, help="sidecar nodes the xDS cache has")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--upstreams-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstreams_only:
        asyncio.run(serve_upstreams(args.upstreams_only))
        return
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    print()
    print(table(result))
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
