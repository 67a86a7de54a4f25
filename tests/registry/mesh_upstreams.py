"""Real upstreams that require mesh mTLS, as an mTLS sidecar's inbound listener does: an
HTTPS server and a gRPC server with the health service, each presenting a certificate of
the mesh CA and asking every client for one. They record what the client presented."""

from __future__ import annotations

import ssl
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from lucid.translators.state import Identity


class MeshHttpsUpstream:
    """An HTTPS server on a free loopback port: 200 on every path, mesh client certificate
    required; `clients` are the URI SANs each request's client presented, `server_names`
    the SNI each handshake asked for."""

    def __init__(self, identity: Identity, trust_bundle: str) -> None:
        self.clients: list[list[str]] = []
        self.serials: list[int] = []
        self.server_names: list[str | None] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                peer: Any = self.connection.getpeercert()  # type: ignore[attr-defined]
                upstream.clients.append(
                    [v for kind, v in peer.get("subjectAltName", ()) if kind == "URI"]
                )
                upstream.serials.append(int(peer["serialNumber"], 16))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=trust_bundle)
        context.verify_mode = ssl.CERT_REQUIRED
        with tempfile.TemporaryDirectory() as scratch:
            chain, key = Path(scratch) / "chain.pem", Path(scratch) / "key.pem"
            chain.write_text(identity.certificate_chain)
            key.write_text(identity.private_key)
            context.load_cert_chain(chain, key)

        def remember(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
            upstream.server_names.append(name)

        context.sni_callback = remember  # type: ignore[assignment]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@contextmanager
def https_upstream(identity: Identity, trust_bundle: str) -> Iterator[MeshHttpsUpstream]:
    upstream = MeshHttpsUpstream(identity, trust_bundle)
    try:
        yield upstream
    finally:
        upstream.close()


@asynccontextmanager
async def grpc_upstream(identity: Identity, trust_bundle: str) -> AsyncIterator[int]:
    """A gRPC server with the standard health service (SERVING) over mesh mTLS; its port."""
    server = grpc.aio.server()
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    credentials = grpc.ssl_server_credentials(
        [(identity.private_key.encode(), identity.certificate_chain.encode())],
        root_certificates=trust_bundle.encode(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        yield port
    finally:
        await server.stop(None)
