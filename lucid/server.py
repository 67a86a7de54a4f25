"""`lucid serve`: one process, one asyncio loop, every long-running component on it.

This module wires the parts together and owns their lifetime: it opens the store, finds
the API token, starts each component (the REST API on uvicorn, the registry, the xDS gRPC
server with its push pipeline) and, on SIGINT/SIGTERM or when any component stops, asks
every component to stop, waits for them and closes the store. Signals belong to this module, not
to uvicorn, so a second server on the loop is stopped the same way.

The API token is never printed or logged: only the file it lives in is. It comes from the
config, else `$LUCID_API_TOKEN`, else `<data_dir>/api-token` (created with mode 0600). The
registration token (the right to register instances, nothing else) is found the same way:
`$LUCID_REGISTRATION_TOKEN`, else `<data_dir>/registration-token`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import secrets
import signal
import socket
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from fastapi import FastAPI

from lucid.errors import LucidError
from lucid.pipeline import build_xds
from lucid.registry import Registry, RegistryComponent
from lucid.resources import Resources
from lucid.runtime import tune_gc
from lucid.store import StoreError, open_store
from lucid.xds.server import DEFAULT_XDS_HOST, DEFAULT_XDS_PORT, XdsBindError, XdsOptions

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 18080
TOKEN_ENV = "LUCID_API_TOKEN"
TOKEN_FILE = "api-token"
REGISTRATION_TOKEN_ENV = "LUCID_REGISTRATION_TOKEN"
REGISTRATION_TOKEN_FILE = "registration-token"
GRACEFUL_SHUTDOWN = 10  # seconds open requests get to finish once stopping begins


@dataclass(frozen=True)
class ServeConfig:
    store_url: str
    data_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    xds_host: str = DEFAULT_XDS_HOST
    xds_port: int = DEFAULT_XDS_PORT


class ServeError(Exception):
    """`lucid serve` cannot start: bad store URL, port taken, unreadable token file."""


class Component(Protocol):
    """A long-running part of the server: `run` returns once `stop` has been called."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def resolve_token(config: ServeConfig) -> tuple[str, str]:
    """The API token and where it came from (for the log; never the token itself)."""
    if config.token:
        return config.token, "the server configuration"
    from_env = os.environ.get(TOKEN_ENV, "").strip()
    if from_env:
        return from_env, f"${TOKEN_ENV}"
    path = token_path(config.data_dir)
    return _load_or_create_token(path), str(path)


def resolve_registration_token(config: ServeConfig) -> tuple[str, str]:
    """The registration token and where it came from (never the token itself)."""
    from_env = os.environ.get(REGISTRATION_TOKEN_ENV, "").strip()
    if from_env:
        return from_env, f"${REGISTRATION_TOKEN_ENV}"
    path = config.data_dir / REGISTRATION_TOKEN_FILE
    return _load_or_create_token(path), str(path)


def _load_or_create_token(path: Path) -> str:
    for _ in range(2):
        try:
            token = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ServeError(f"cannot read the API token file {path}: {exc}") from exc
        else:
            if not token:
                raise ServeError(f"the API token file {path} is empty; delete it to get a new one")
            if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                log.warning("API token file %s is readable by other users; chmod 600 it", path)
            return token
        token = secrets.token_urlsafe(32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue  # another process created it between our read and our open: read it
        except OSError as exc:
            raise ServeError(f"cannot create the API token file {path}: {exc}") from exc
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(token + "\n")
        log.info("generated a new API token in %s", path)
        return token
    raise ServeError(f"cannot read or create the API token file {path}")


def redacted_url(url: str) -> str:
    """The store URL with any password replaced, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket for `host:port` (port 0: any free port)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def is_loopback(sock: socket.socket) -> bool:
    return ipaddress.ip_address(sock.getsockname()[0]).is_loopback


class ApiServer:
    """The REST API: uvicorn on an already bound socket, signals left to `run_components`."""

    name = "api"

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        config = uvicorn.Config(
            app,
            log_config=None,  # keep the logging set up by configure_logging
            access_log=True,  # method, path and status only: never headers
            server_header=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
        self._server = _QuietSignalsServer(config)
        self._sock = sock

    async def run(self) -> None:
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            self._sock.close()

    def stop(self) -> None:
        if self._server.should_exit:
            self._server.force_exit = True  # asked twice: drop open connections
        self._server.should_exit = True


class _QuietSignalsServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # run_components owns SIGINT/SIGTERM for every component


async def run_components(components: Sequence[Component]) -> None:
    """Run components until a signal arrives or one of them ends, then stop them all."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    tasks = {asyncio.create_task(c.run(), name=c.name): c for c in components}
    waiter = asyncio.create_task(stopping.wait())
    with _signals_set(loop, stopping):
        await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if stopping.is_set():
            log.info("stopping")
        for component in components:
            component.stop()
        stopping.clear()
        pending = [t for t in tasks if not t.done()]
        while pending:  # a second signal while stopping asks the stragglers again
            waiter = asyncio.create_task(stopping.wait())
            await asyncio.wait([waiter, *pending], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if stopping.is_set():
                stopping.clear()
                for task in pending:
                    tasks[task].stop()
            pending = [t for t in pending if not t.done()]
    failures = [t for t in tasks if not t.cancelled() and t.exception() is not None]
    for task in failures:
        log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
    if failures:
        raise ServeError(f"{failures[0].get_name()} failed: {failures[0].exception()}")


@contextlib.contextmanager
def _signals_set(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> Iterator[None]:
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, event.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


class ApiFactory(Protocol):
    """Builds the REST API over the resources, given the write token and the registry.

    The entry point passes `lucid.api.app.create_app`: the API sits above this module in
    the layering, so it is handed in rather than imported.
    """

    def __call__(
        self, resources: Resources, token: str, *, registry: Registry, registration_token: str
    ) -> FastAPI: ...


async def serve(config: ServeConfig, *, api: ApiFactory) -> None:
    """Run `lucid serve` until SIGINT/SIGTERM; raises ServeError if it cannot start."""
    tune_gc()
    token, origin = resolve_token(config)
    registration_token, registration_origin = resolve_registration_token(config)
    install_redaction([token, registration_token])
    try:
        store = await asyncio.to_thread(open_store, config.store_url)
    except (ValueError, StoreError) as exc:
        raise ServeError(f"cannot open store {redacted_url(config.store_url)}: {exc}") from exc
    try:
        registry = Registry(store)
        app = api(Resources(store), token, registry=registry, registration_token=registration_token)
        sock = listen(config.host, config.port)
        host, port = sock.getsockname()[:2]
        if not is_loopback(sock):
            log.warning(
                "the API listens on %s, reachable from other machines: writes need the token, "
                "but nothing is encrypted; put TLS in front of it",
                config.host,
            )
        log.info("store: %s", redacted_url(config.store_url))
        log.info("API listening on http://%s:%d (writes need the token in %s)", host, port, origin)
        log.info("instances register with the registration token in %s", registration_origin)
        try:  # xDS: the gRPC server, the push pipeline, config events (lucid.pipeline)
            xds = build_xds(
                store,
                options=XdsOptions(host=config.xds_host, port=config.xds_port),
                data_dir=config.data_dir,
            )
        except (XdsBindError, LucidError) as exc:
            sock.close()
            raise ServeError(str(exc)) from exc
        app.state.xds = xds.status()
        await run_components(
            [ApiServer(app, sock), RegistryComponent(registry, ca=xds.pipeline.ca), *xds.components]
        )
    finally:
        await asyncio.to_thread(store.close)
        log.info("stopped")


class RedactSecrets(logging.Filter):
    """Defence in depth: a token or bearer header that reaches a log line is masked."""

    _BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")

    def __init__(self, secrets_: Sequence[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets_ if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._BEARER.sub(r"\1<redacted>", message)
        for secret in self._secrets:
            cleaned = cleaned.replace(secret, "<redacted>")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction(secrets_: Sequence[str]) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(secrets_))


def configure_logging(level: int = logging.INFO) -> None:
    """Log lines to stderr, with secrets masked; called once by `lucid serve`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO: the registry's health checks would flood the log.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
