"""Upstream mesh mTLS on the wire: a real Envoy runs the caller's rendered bootstrap
(`lucid.render`, identities from the mesh CA) and calls a TLS server standing in for the
destination's sidecar. Envoy presents the caller's SPIFFE identity with SNI
`<service>.lucid.onion`, and refuses a peer whose certificate names another service, even
one signed by the same CA."""

from __future__ import annotations

import contextlib
import http.server
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lucid.ca import CertificateAuthority
from lucid.models import ServiceRegistration, SidecarConfiguration
from lucid.render import bootstrap, find_node, mesh_state, render_node
from lucid.translators.state import Identity, spiffe_id
from tests.builders import endpoint, instance, routing, sidecar_for
from tests.e2e.harness.processes import free_port
from tests.unit.translators.destination_envoy import request, running_envoy


class _Seen:
    def __init__(self) -> None:
        self.server_names: list[str | None] = []
        self.client_uris: list[str] = []


def _handler(seen: _Seen) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            peer = self.connection.getpeercert() or {}
            seen.client_uris += [v for k, v in peer.get("subjectAltName", ()) if k == "URI"]
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextlib.contextmanager
def tls_destination(ca: CertificateAuthority, identity: Identity, port: int) -> Iterator[_Seen]:
    """A TLS server on `port` presenting `identity` and requiring a mesh client cert."""
    seen = _Seen()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=ca.trust_bundle())
    context.verify_mode = ssl.CERT_REQUIRED
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert.write_text(identity.certificate_chain)
        key.write_text(identity.private_key)
        context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.server_names.append(name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(seen))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def caller_bootstrap(ca: CertificateAuthority, destination_port: int):
    registrations = [
        instance("web", 1, instanceId="web-1", plane="ops",
                 endpoint=endpoint(host="127.0.0.1", port=free_port())),
        instance("vault", 2, instanceId="vault-1",
                 endpoint=endpoint(host="127.0.0.1", port=destination_port)),
    ]  # fmt: skip
    sidecars = [
        sidecar_for(1, routing=routing(defaultRoute="vault")),
        sidecar_for(2, routing=routing(defaultRoute="vault"), security={"mTLS": {}}),
    ]
    state = mesh_state(
        [ServiceRegistration.model_validate(r) for r in registrations]
        + [SidecarConfiguration.model_validate(s) for s in sidecars],
        ca,
    )
    outbound = free_port()
    node = find_node(state, "web-1", app_port=free_port(), outbound_port=outbound)
    return bootstrap(render_node(state, node)), outbound


def test_envoy_presents_the_callers_identity_and_sni(tmp_path):
    ca = CertificateAuthority.ephemeral()
    port = free_port()
    config, outbound = caller_bootstrap(ca, port)

    with (
        tls_destination(ca, ca.issue("vault", "chain"), port) as seen,
        running_envoy(config, tmp_path, outbound),
    ):
        status, _ = request(outbound, "/", {"host": "vault"})

    assert status == 200
    assert "vault.lucid.onion" in seen.server_names
    assert spiffe_id("ops", "web") in seen.client_uris


def test_envoy_refuses_a_peer_that_is_not_the_destination(tmp_path):
    ca = CertificateAuthority.ephemeral()
    port = free_port()
    config, outbound = caller_bootstrap(ca, port)

    with (
        tls_destination(ca, ca.issue("impostor", "chain"), port) as seen,
        running_envoy(config, tmp_path, outbound),
    ):
        status, _ = request(outbound, "/", {"host": "vault"})

    assert status == 503
    assert "vault.lucid.onion" in seen.server_names, "Envoy did try the TLS handshake"
    assert seen.client_uris == []
