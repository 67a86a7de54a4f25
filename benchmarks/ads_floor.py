"""The floor under `ads_load.py`: its load generator against an ADS server that only answers.

`ads_load.py` times a change through the whole control plane: the REST API, the store, the
50 ms debounce, translation, the cache, then gRPC to every stream and the ACKs back, on
two cores shared with a load generator written in Python. This benchmark keeps the
generator, the changes, the streams, the debounce and the bytes on the wire, and takes
away the control plane: a bare grpc.aio server answers from responses computed before it
starts (the very resources `lucid render` would give each sidecar before and after each
change, serialized once), and a change is an HTTP request that, 50 ms later, marks every
stream's changed types for sending. No store, no translation, no status, events or
metrics. What remains is what gRPC's asyncio layer and the generator cost on this machine,
so `ads_load.py`'s figures can be read against it: the distance between the two is what
Lucid itself adds.

    .venv/bin/python benchmarks/ads_floor.py [--streams 100 1000 5000]
        [--changes policy service] [--json out.json]

Prints JSON (machine, versions, commit) and a short table, in `ads_load.py`'s format.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import ads_load
from benchmarks.ads_load import CDS, EDS, LDS, RDS, SERVICES

DEBOUNCE = 0.05  # seconds, as `lucid serve`'s default


# -- the bare server (its own process) -----------------------------------------------------------


Mesh = dict[str, dict[str, dict[str, bytes]]]  # service → type URL → name → serialized Any


def _meshes() -> dict[frozenset[str], Mesh]:
    """What each sidecar is sent, for every set of changes made so far, as `lucid render`
    would give it (identities from one ephemeral CA)."""
    from itertools import combinations

    from envoy.config.core.v3 import base_pb2
    from google.protobuf import any_pb2, struct_pb2

    from lucid.ca import CertificateAuthority
    from lucid.kinds import BY_NAME
    from lucid.render import mesh_state
    from lucid.translators.mesh import Translation
    from lucid.xds.nodes import node_from_proto

    base = [ads_load.registration(f"svc-{i}", i + 1) for i in range(SERVICES)]
    ca = CertificateAuthority.ephemeral()
    meshes: dict[frozenset[str], Mesh] = {}
    for size in range(len(ads_load.CHANGES) + 1):
        for made in combinations(sorted(ads_load.CHANGES), size):
            documents = base + [d for c in made for d in ads_load.change_documents(c)]
            models = [BY_NAME[d["kind"]].parse(d["spec"]) for d in documents]
            translation = Translation(mesh_state(models, ca))
            mesh: Mesh = {}
            for number in range(SERVICES):
                meta = struct_pb2.Struct()
                meta.update(ads_load.NODE_METADATA)
                node = node_from_proto(
                    base_pb2.Node(id="floor", cluster=f"svc-{number}", metadata=meta)
                )
                mesh[node.service] = {
                    type_url: {
                        name: any_pb2.Any(
                            type_url=type_url, value=m.SerializeToString(deterministic=True)
                        ).SerializeToString()
                        for name, m in named.items()
                    }
                    for type_url, named in translation.node(node).resources.items()
                }
            meshes[frozenset(made)] = mesh
    return meshes


def _change_of(body: bytes) -> str:
    """Which of `ads_load.CHANGES` an apply request makes."""
    documents = json.loads(body)["documents"]
    for change in ads_load.CHANGES:
        if ads_load.change_documents(change) == documents:
            return change
    raise ValueError("not a change ads_load makes")


async def serve() -> None:
    import grpc
    from envoy.service.discovery.v3 import discovery_pb2

    from lucid.xds.cache.entries import length_delimited

    meshes = _meshes()
    made: set[str] = set()
    current = [meshes[frozenset()]]
    streams: list[Stream] = []

    class Stream:
        def __init__(self) -> None:
            self.wake = asyncio.Event()
            self.dirty: list[str] = []
            self.names: dict[str, list[str] | None] = {}
            self.service = ""
            self.nonce = 0

    def response(stream: Stream, type_url: str) -> bytes:
        resources = current[0][stream.service].get(type_url, {})
        named = stream.names.get(type_url)
        chosen = resources.values() if named is None else [resources[n] for n in named]
        stream.nonce += 1
        head = discovery_pb2.DiscoveryResponse(
            type_url=type_url, version_info=str(len(made)), nonce=str(stream.nonce)
        ).SerializeToString()
        # resources = field 2, appended: field order is free in protobuf's wire format
        return head + b"".join(length_delimited(2, a) for a in chosen)

    async def handle(_requests: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        stream = Stream()
        streams.append(stream)

        async def reader() -> None:
            while (request := await context.read()) is not grpc.aio.EOF:
                if request.HasField("node"):
                    stream.service = request.node.cluster
                kind = request.type_url
                names = list(request.resource_names) if kind in (EDS, RDS) else None
                if not request.response_nonce or names != stream.names.get(kind):
                    stream.names[kind] = names
                    stream.dirty.append(kind)
                    stream.wake.set()
            stream.wake.set()

        reading = asyncio.create_task(reader())
        try:
            while True:
                await stream.wake.wait()
                stream.wake.clear()
                if reading.done():
                    return
                dirty, stream.dirty = stream.dirty, []
                for kind in dirty:
                    await context.write(response(stream, kind))
        finally:
            reading.cancel()
            streams.remove(stream)

    def push(change: str) -> None:
        before = current[0]
        made.add(change)
        after = current[0] = meshes[frozenset(made)]
        for stream in streams:
            for kind in (CDS, LDS, RDS):  # EDS follows the re-subscription, as in Lucid
                if before[stream.service].get(kind) != after[stream.service].get(kind):
                    stream.dirty.append(kind)
            if stream.dirty:
                stream.wake.set()

    async def trigger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A minimal HTTP/1.1 endpoint: a POST is the next change, pushed after the
        debounce (answered at once, as Lucid answers once the change is stored)."""
        while request := await reader.readuntil(b"\r\n\r\n"):
            length = 0
            for line in request.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            if request.startswith(b"POST"):
                asyncio.get_running_loop().call_later(DEBOUNCE, push, _change_of(body))
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
            )
            await writer.drain()

    from lucid.xds.server import XdsOptions

    transport = XdsOptions()  # the very gRPC settings `lucid serve` uses
    server = grpc.aio.server(
        options=transport.grpc_options(), maximum_concurrent_rpcs=transport.max_concurrent_rpcs
    )
    method = grpc.stream_stream_rpc_method_handler(
        handle,
        request_deserializer=discovery_pb2.DiscoveryRequest.FromString,
        response_serializer=None,
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "envoy.service.discovery.v3.AggregatedDiscoveryService",
                {"StreamAggregatedResources": method},
            )
        ]
    )
    xds_port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    http = await asyncio.start_server(_quiet(trigger), "127.0.0.1", 0)
    print(json.dumps({"xds": xds_port, "http": http.sockets[0].getsockname()[1]}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(0)


def _quiet(handler: Any) -> Any:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return run


class BareServer(ads_load.Server):
    """The bare server in its own process, with `ads_load.Server`'s measuring methods."""

    def __init__(self) -> None:  # replaces the parent's start of `lucid serve`
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        ports = json.loads(self.process.stdout.readline())
        self.xds_port, self.port = ports["xds"], ports["http"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = "unused"
        self.dir = None  # nothing on disk
        self.log = open(os.devnull, "wb")  # noqa: SIM115 - closed by stop()

    def apply(self, documents: list[dict[str, Any]]) -> None:
        """The mesh is built in, before the server starts."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument(
        "--changes", nargs="+", choices=sorted(ads_load.CHANGES), default=["policy", "service"]
    )
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    report: dict[str, Any] = {
        "machine": ads_load.machine(),
        "services": SERVICES,
        "server": "bare grpc.aio, precomputed responses",
        "load": [],
    }
    for streams in args.streams:
        report["load"].extend(ads_load.run_load(streams, args.changes, server_type=BareServer))
        print(f"  {streams} streams done", file=sys.stderr, flush=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print(ads_load.table(report))


if __name__ == "__main__":
    main()
