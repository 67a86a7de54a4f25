"""Running the destination-side resources in the real Envoy 1.40: a static bootstrap made
from generated listeners, route configurations and clusters, `envoy --mode validate`, and a
live Envoy in front of a tiny local HTTP app for request tests.

A static bootstrap has no ADS server, so RDS references become the named route
configuration inline and SDS references become static secrets of the same names (a
throwaway CA and workload certificate made with `cryptography`).
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf import json_format
from google.protobuf.message import Message

from lucid.translators.node import IDENTITY_SECRET, TRUST_SECRET
from tests.e2e.harness.envoy import validate_config

ENVOY = Path(sys.executable).parent / "envoy"
HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
    "HttpConnectionManager"
)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def throwaway_identity(spiffe: str) -> dict[str, str]:
    """A CA and a workload certificate with `spiffe` as URI SAN, all PEM."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("lucid-test-ca"))
        .issuer_name(_name("lucid-test-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("workload"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe)]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return {
        "ca": ca.public_bytes(pem).decode(),
        "chain": leaf.public_bytes(pem).decode(),
        "key": key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }


def _as_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def _inline(value: Any, routes: dict[str, dict[str, Any]]) -> Any:
    """RDS → inline route configuration; SDS over ADS → the static secret of that name."""
    if isinstance(value, list):
        return [_inline(item, routes) for item in value]
    if not isinstance(value, dict):
        return value
    result = {k: _inline(v, routes) for k, v in value.items() if k != "sdsConfig"}
    if result.get("@type") == HCM_TYPE and "rds" in result:
        name = result.pop("rds")["routeConfigName"]
        result["routeConfig"] = routes.get(name) or {
            "name": name,
            "virtualHosts": [
                {
                    "name": "stand-in",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "directResponse": {"status": 200}}],
                }
            ],
        }
    return result


def static_bootstrap(
    listeners: Sequence[Message],
    route_configurations: Sequence[Message],
    clusters: Sequence[Message],
    identity: dict[str, str] | None = None,
    routes_for: Mapping[str, Sequence[Message]] | None = None,
) -> dict[str, Any]:
    """A static bootstrap: each listener's RDS route configuration inlined by name, from
    `route_configurations`, or for a listener named in `routes_for` from its own list
    (several listeners whose route configurations share a name, as `routes-in` does)."""
    routes = {r.name: _as_dict(r) for r in route_configurations}  # type: ignore[attr-defined]
    own = {
        listener: {r.name: _as_dict(r) for r in configs}  # type: ignore[attr-defined]
        for listener, configs in (routes_for or {}).items()
    }
    static: dict[str, Any] = {
        "listeners": [
            _inline(_as_dict(listener), {**routes, **own.get(listener.name, {})})  # type: ignore[attr-defined]
            for listener in listeners
        ],
        "clusters": [_as_dict(cluster) for cluster in clusters],
    }
    if identity is not None:
        static["secrets"] = [
            {
                "name": IDENTITY_SECRET,
                "tls_certificate": {
                    "certificate_chain": {"inline_string": identity["chain"]},
                    "private_key": {"inline_string": identity["key"]},
                },
            },
            {
                "name": TRUST_SECRET,
                "validation_context": {"trusted_ca": {"inline_string": identity["ca"]}},
            },
        ]
    return {"node": {"id": "validate", "cluster": "validate"}, "static_resources": static}


def validate(bootstrap: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "bootstrap.json"
    path.write_text(json.dumps(bootstrap, indent=2))
    return validate_config(path, log_level="error", timeout=60)


class _Ok(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b"app"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextlib.contextmanager
def local_app() -> Iterator[int]:
    """A local HTTP app answering 200 to everything; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def running_envoy(bootstrap: dict[str, Any], folder: Path, port: int) -> Iterator[None]:
    """A real Envoy on `bootstrap`, ready once `port` accepts connections; stopped by PID."""
    path = folder / "live.json"
    bootstrap = {**bootstrap, "admin": {"address": {"socket_address": {
        "address": "127.0.0.1", "port_value": 0}}}}  # fmt: skip
    path.write_text(json.dumps(bootstrap))
    log = (folder / "envoy.log").open("w")
    process = subprocess.Popen(
        [str(ENVOY), "--use-dynamic-base-id", "-c", str(path), "--log-level", "warn"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError((folder / "envoy.log").read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("Envoy did not open its listener")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def request(port: int, path: str = "/", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, response headers) of a GET through the listener on `port`."""
    call = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers
