"""One health-check attempt against one instance, over HTTP or the gRPC health protocol.

Which protocol follows the same rule as the Envoy checks the translators generate
(`lucid.translators.health_checks`), so the registry and the proxies judge an instance
the same way: a grpc/grpcs instance is checked with `grpc.health.v1.Health/Check` unless
its healthCheck gives an `httpCheck`; an http/https instance always over HTTP, on the
healthCheck `endpoint` path.

Connections are pooled per target: one small httpx client and one gRPC channel per
host:port, kept for as long as some registration checks that target (`prune`). One
client per target rather than one shared pool: httpx's pool scans every connection on
each request, which saturated the event loop at a few hundred connections. gRPC channels retry
connecting after at most a second, so a restarted instance is seen at its next check.
Every attempt is bounded by the check's timeout as a whole (connect, send, first bytes),
not per phase.

An instance whose sidecar requires mesh mTLS (`MeshLookup`, answered by `mesh_tls.MeshTls`)
is probed over TLS instead of in plaintext, whatever its registration says about TLS: the
client presents the control plane's health-checker certificate and trusts the mesh CA
only; SNI and the checked host name are `<service>.lucid.onion` (httpx's `sni_hostname`
extension; gRPC's `grpc.ssl_target_name_override`), and over HTTP the server's URI SAN
must be the service's SPIFFE id. Such clients and channels are keyed by target and server
name and rebuilt when the health-checker certificate is renewed; the old ones are closed
at the next `prune`.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import grpc  # type: ignore[import-untyped, unused-ignore]
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from lucid.models import ServiceRegistration
from lucid.models.identity import EndpointTLS
from lucid.registry.mesh_tls import MeshTarget

CheckKind = Literal["http", "grpc"]
MAX_BODY = 64 * 1024  # bytes of a check response read (so the connection can be reused)
_STANDARD = {"Check", "grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Check"}
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),
]


class MeshLookup(Protocol):
    """Whether an instance sits behind a sidecar requiring mesh mTLS, and how to probe it."""

    def target(self, registration: ServiceRegistration) -> MeshTarget | None: ...


@dataclass(frozen=True)
class Attempt:
    passed: bool
    response_ms: float | None
    error: str | None = None


def check_kind(registration: ServiceRegistration) -> CheckKind:
    if registration.endpoint.protocol in ("grpc", "grpcs"):
        return "http" if registration.healthCheck.httpCheck is not None else "grpc"
    return "http"


def target(registration: ServiceRegistration, mesh: MeshTarget | None = None) -> str:
    """What a check is sent to: a URL for HTTP, host:port for gRPC."""
    if check_kind(registration) == "grpc":
        return _host_port(registration)
    scheme = "https" if registration.endpoint.uses_tls or mesh is not None else "http"
    return f"{scheme}://{_host_port(registration)}{registration.healthCheck.endpoint}"


def _host_port(registration: ServiceRegistration) -> str:
    endpoint = registration.endpoint
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return f"{host}:{endpoint.port}"


def _pem(value: str) -> bytes:
    """Inline PEM as is, anything else read as a file path on this host."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode("ascii")
    return Path(value).read_bytes()


def _ssl_context(tls: EndpointTLS | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if tls is not None and tls.certAuthority is not None:
        context = ssl.create_default_context(cadata=_pem(tls.certAuthority).decode("ascii"))
    if tls is not None and tls.clientCert is not None and tls.clientKey is not None:
        _load_cert_chain(context, _pem(tls.clientCert), _pem(tls.clientKey))
    return context


def _load_cert_chain(context: ssl.SSLContext, certificate: bytes, key: bytes) -> None:
    # ssl loads a certificate only from files: inline PEM is written to a private
    # temporary file (mode 0600) for the duration of the call.
    with tempfile.TemporaryDirectory() as scratch:
        cert_path = Path(scratch) / "cert.pem"
        key_path = Path(scratch) / "key.pem"
        for path, value in ((cert_path, certificate), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(value)
        context.load_cert_chain(cert_path, key_path)


def mesh_ssl_context(mesh: MeshTarget) -> ssl.SSLContext:
    """Trust the mesh CA only, check the host name, present the health checker's identity."""
    context = ssl.create_default_context(cadata=mesh.trust_bundle)
    identity = mesh.identity
    _load_cert_chain(
        context, identity.certificate_chain.encode("ascii"), identity.private_key.encode("ascii")
    )
    return context


def _peer_error(response: httpx.Response, mesh: MeshTarget) -> str | None:
    """None when the server's certificate names the service's SPIFFE id, else why not."""
    stream: Any = response.extensions.get("network_stream")
    tls = stream.get_extra_info("ssl_object") if stream is not None else None
    certificate = tls.getpeercert() if tls is not None else None
    names = certificate.get("subjectAltName", ()) if certificate else ()
    uris = [value for kind, value in names if kind == "URI"]
    if mesh.accepts(uris):
        return None
    return f"the server's certificate is not {mesh.service}'s (URI SANs: {uris or 'none'})"


def _tls_key(tls: EndpointTLS | None) -> tuple[str | None, str | None, str | None]:
    if tls is None:
        return (None, None, None)
    return (tls.certAuthority, tls.clientCert, tls.clientKey)


PER_TARGET_CONNECTIONS = 4


class Probes:
    def __init__(self, mesh: MeshLookup | None = None) -> None:
        self._limits = httpx.Limits(
            max_connections=PER_TARGET_CONNECTIONS,
            max_keepalive_connections=PER_TARGET_CONNECTIONS,
        )
        self._mesh = mesh
        self._contexts: dict[tuple[str | None, ...], ssl.SSLContext] = {}
        self._http: dict[tuple[str | None, ...], httpx.AsyncClient] = {}
        self._channels: dict[tuple[str | None, ...], grpc.aio.Channel] = {}
        # Mesh mTLS: the credentials each client or channel was built with; the context of
        # the current credentials; clients and channels of renewed ones, closed at `prune`.
        self._built_with: dict[tuple[str | None, ...], tuple[str, str]] = {}
        self._mesh_context: tuple[tuple[str, str], ssl.SSLContext] | None = None
        self._retired: list[httpx.AsyncClient | grpc.aio.Channel] = []

    def mesh_target(self, registration: ServiceRegistration) -> MeshTarget | None:
        """How to probe `registration` with mesh mTLS; None for a plain probe."""
        return self._mesh.target(registration) if self._mesh is not None else None

    def details(self, registration: ServiceRegistration) -> dict[str, str]:
        """What a check result says about how it was made."""
        mesh = self.mesh_target(registration)
        found = {"checker": check_kind(registration), "target": target(registration, mesh)}
        if mesh is not None:
            found["tls"] = f"mesh mTLS to {mesh.server_name}"
        return found

    async def attempt(self, registration: ServiceRegistration, timeout: float) -> Attempt:
        """One attempt, bounded by `timeout` seconds; never raises for a failed check."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                mesh = self.mesh_target(registration)
                if check_kind(registration) == "grpc":
                    error = await self._grpc(registration, timeout, mesh)
                else:
                    error = await self._http_check(registration, mesh)
        except TimeoutError:
            return Attempt(False, None, f"timed out after {timeout:g} s")
        except (OSError, ssl.SSLError, ValueError) as exc:
            return Attempt(False, None, f"cannot set up the check: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        return Attempt(error is None, elapsed, error)

    async def _http_check(
        self, registration: ServiceRegistration, mesh: MeshTarget | None
    ) -> str | None:
        config = registration.healthCheck.httpCheck
        client = await (
            self._client(registration) if mesh is None else self._mesh_client(registration, mesh)
        )
        method = config.method if config is not None else "GET"
        expected = config.expectedStatus if config is not None else [200]
        try:
            async with client.stream(
                method,
                target(registration, mesh),
                headers=config.headers if config is not None else None,
                content=config.body.encode("utf-8") if config and config.body else None,
                extensions={"sni_hostname": mesh.server_name} if mesh is not None else None,
            ) as response:
                if mesh is not None and (wrong := _peer_error(response, mesh)) is not None:
                    return wrong
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_BODY:
                        break
        except httpx.TimeoutException as exc:
            raise TimeoutError from exc
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if response.status_code not in expected:
            return f"HTTP {response.status_code}, expected {', '.join(map(str, expected))}"
        return None

    async def _grpc(
        self, registration: ServiceRegistration, timeout: float, mesh: MeshTarget | None
    ) -> str | None:
        config = registration.healthCheck.grpcCheck
        deadline = min(timeout, config.timeout) if config is not None else timeout
        channel = await (
            self._channel(registration) if mesh is None else self._mesh_channel(registration, mesh)
        )
        method = config.method if config is not None else None
        try:
            if method is None or method in _STANDARD:
                request = health_pb2.HealthCheckRequest(service=(config and config.service) or "")
                reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=deadline)
                if reply.status != health_pb2.HealthCheckResponse.SERVING:
                    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                    return f"gRPC health status {status}"
                return None
            if "/" not in method:
                return (
                    f"grpcCheck.method {method!r} is neither Check nor a full method name "
                    "('package.Service/Method')"
                )
            call = channel.unary_unary(
                "/" + method.lstrip("/"),
                request_serializer=lambda _: b"",
                response_deserializer=lambda raw: raw,
            )
            await call(None, timeout=deadline)
            return None
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise TimeoutError from exc
            return f"gRPC {exc.code().name}: {exc.details()}"

    async def _client(self, registration: ServiceRegistration) -> httpx.AsyncClient:
        tls = registration.endpoint.tls if registration.endpoint.uses_tls else None
        tls_key = _tls_key(tls)
        key = (_host_port(registration), *tls_key)
        client = self._http.get(key)
        if client is None:
            context = self._contexts.get(tls_key)
            if context is None:
                # Building an SSL context reads files and CA bundles: off the event loop.
                context = await asyncio.to_thread(_ssl_context, tls)
                context = self._contexts.setdefault(tls_key, context)
            client = self._http.setdefault(
                key, httpx.AsyncClient(verify=context, limits=self._limits, trust_env=False)
            )
        return client

    async def _channel(self, registration: ServiceRegistration) -> grpc.aio.Channel:
        endpoint = registration.endpoint
        tls = endpoint.tls if endpoint.uses_tls else None
        key = (target(registration), str(endpoint.uses_tls), *_tls_key(tls))
        channel = self._channels.get(key)
        if channel is None:
            if endpoint.uses_tls:
                credentials = await asyncio.to_thread(_grpc_credentials, tls)
                channel = grpc.aio.secure_channel(key[0], credentials, options=_CHANNEL_OPTIONS)
            else:
                channel = grpc.aio.insecure_channel(key[0], options=_CHANNEL_OPTIONS)
            self._channels[key] = channel
        return channel

    async def _mesh_client(
        self, registration: ServiceRegistration, mesh: MeshTarget
    ) -> httpx.AsyncClient:
        key = (_host_port(registration), "mesh", mesh.server_name)
        client = self._http.get(key)
        if client is None or self._built_with.get(key) != mesh.credentials:
            current = self._mesh_context
            if current is None or current[0] != mesh.credentials:
                context = await asyncio.to_thread(mesh_ssl_context, mesh)
                current = self._mesh_context = (mesh.credentials, context)
            client = self._http.get(key)  # another check may have built it meanwhile
            if client is None or self._built_with.get(key) != mesh.credentials:
                if client is not None:
                    self._retired.append(client)
                client = httpx.AsyncClient(verify=current[1], limits=self._limits, trust_env=False)
                self._http[key] = client
                self._built_with[key] = mesh.credentials
        return client

    async def _mesh_channel(
        self, registration: ServiceRegistration, mesh: MeshTarget
    ) -> grpc.aio.Channel:
        key = (target(registration), "mesh", mesh.server_name)
        channel = self._channels.get(key)
        if channel is None or self._built_with.get(key) != mesh.credentials:
            if channel is not None:
                self._retired.append(channel)
            credentials = grpc.ssl_channel_credentials(
                root_certificates=mesh.trust_bundle.encode("ascii"),
                private_key=mesh.identity.private_key.encode("ascii"),
                certificate_chain=mesh.identity.certificate_chain.encode("ascii"),
            )
            options = [*_CHANNEL_OPTIONS, ("grpc.ssl_target_name_override", mesh.server_name)]
            channel = grpc.aio.secure_channel(key[0], credentials, options=options)
            self._channels[key] = channel
            self._built_with[key] = mesh.credentials
        return channel

    async def prune(self, active: list[ServiceRegistration]) -> None:
        """Close the clients and channels no scheduled registration uses any more."""
        wanted = {_host_port(r) for r in active}
        for key in [k for k in self._channels if k[0] not in wanted]:
            self._built_with.pop(key, None)
            await self._channels.pop(key).close()
        for http_key in [k for k in self._http if k[0] not in wanted]:
            self._built_with.pop(http_key, None)
            await self._http.pop(http_key).aclose()
        await self._close_retired()

    async def _close_retired(self) -> None:
        retired, self._retired = self._retired, []
        for old in retired:
            if isinstance(old, httpx.AsyncClient):
                await old.aclose()
            else:
                await old.close()

    async def close(self) -> None:
        for client in self._http.values():
            await client.aclose()
        for channel in self._channels.values():
            await channel.close()
        await self._close_retired()
        self._http.clear()
        self._channels.clear()
        self._built_with.clear()


def _grpc_credentials(tls: EndpointTLS | None) -> grpc.ChannelCredentials:
    if tls is None:
        return grpc.ssl_channel_credentials()
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(tls.certAuthority) if tls.certAuthority else None,
        private_key=_pem(tls.clientKey) if tls.clientKey else None,
        certificate_chain=_pem(tls.clientCert) if tls.clientCert else None,
    )
