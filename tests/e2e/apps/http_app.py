"""An HTTP upstream the end-to-end tests control: it echoes what it receives and obeys orders.

Run as its own process (`python tests/e2e/apps/http_app.py --name NAME --port PORT`), so
Envoy talks to a real socket in another process, as it would to a real service. Every
request outside `/__control/` and the health path is answered with JSON describing it:
the instance name, method, path, query, headers, body, and the caller identity the app
sees (`x-lucid-source`, set by the calling sidecar, and `x-forwarded-client-cert`, set by
the inbound sidecar when mTLS is on). The instance name is also in `x-app-instance`.

Control endpoints (JSON bodies; reached directly on the app port):

    POST /__control/fail    {"count": N, "status": 503}  the next N requests get `status`
    POST /__control/delay   {"ms": 1500, "count": N}     delay the next N (or all: no count)
    POST /__control/health  {"status": 503}              what the health path answers
    GET  /__control/counts                               what was received, by path and method
    GET  /__control/requests                             the last requests (method, path, headers)
    POST /__control/reset                                forget all of the above

Counts leave out control and health requests; health requests are counted apart.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTROL = "/__control/"
KEEP_REQUESTS = 2000


class State:
    """What the app was told and what it saw; shared by the handler threads."""

    def __init__(self, name: str, health_path: str) -> None:
        self.name = name
        self.health_path = health_path
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.fail_count = 0
            self.fail_status = 503
            self.delay_ms = 0
            self.delay_count: int | None = None
            self.health_status = 200
            self.total = 0
            self.health_checks = 0
            self.failed = 0
            self.by_path: Counter[str] = Counter()
            self.by_method: Counter[str] = Counter()
            self.requests: deque[dict[str, Any]] = deque(maxlen=KEEP_REQUESTS)

    def take(self, record: dict[str, Any]) -> tuple[int | None, float]:
        """Count a request; the status it must fail with (or None) and the delay in seconds."""
        with self.lock:
            self.total += 1
            self.by_path[record["path"]] += 1
            self.by_method[record["method"]] += 1
            self.requests.append(record)
            delay = 0.0
            if self.delay_ms and (self.delay_count is None or self.delay_count > 0):
                delay = self.delay_ms / 1000
                if self.delay_count is not None:
                    self.delay_count -= 1
            if self.fail_count > 0:
                self.fail_count -= 1
                self.failed += 1
                return self.fail_status, delay
            return None, delay

    def counts(self) -> dict[str, Any]:
        with self.lock:
            return {
                "instance": self.name,
                "total": self.total,
                "failed": self.failed,
                "health_checks": self.health_checks,
                "by_path": dict(self.by_path),
                "by_method": dict(self.by_method),
            }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lucid-e2e-http"
    state: State

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the
        # body until the peer's delayed ACK, adding 40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the sidecars' access logs are the record of requests."""

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, sort_keys=True).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-app-instance", self.state.name)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _handle(self) -> None:
        body = self._body()
        url = urlsplit(self.path)
        if url.path.startswith(CONTROL):
            self._control(url.path[len(CONTROL) :], body)
        elif url.path == self.state.health_path:
            with self.state.lock:
                self.state.health_checks += 1
                status = self.state.health_status
            self._send(status, {"instance": self.state.name, "healthy": status < 400})
        else:
            self._echo(url.path, url.query, body)

    def _echo(self, path: str, query: str, body: bytes) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {
            "instance": self.state.name,
            "method": self.command,
            "path": path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()},
            "headers": headers,
            "source": headers.get("x-lucid-source"),
            "xfcc": headers.get("x-forwarded-client-cert"),
            "body": body.decode(errors="replace"),
        }
        failure, delay = self.state.take(record)
        if delay:
            time.sleep(delay)
        if failure is not None:
            self._send(failure, {"instance": self.state.name, "failed": True})
        else:
            self._send(200, record)

    def _control(self, command: str, body: bytes) -> None:
        state = self.state
        order: dict[str, Any] = json.loads(body) if body else {}
        if command == "counts":
            self._send(200, state.counts())
            return
        if command == "requests":
            with state.lock:
                self._send(200, list(state.requests))
            return
        with state.lock:
            if command == "fail":
                state.fail_count = int(order.get("count", 1))
                state.fail_status = int(order.get("status", 503))
            elif command == "delay":
                state.delay_ms = int(order.get("ms", 0))
                count = order.get("count")
                state.delay_count = None if count is None else int(count)
            elif command == "health":
                state.health_status = int(order.get("status", 200))
            elif command != "reset":
                self._send(404, {"error": f"unknown control {command!r}"})
                return
        if command == "reset":
            state.reset()
        self._send(200, {"instance": state.name, "ok": command})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--health-path", default="/health")
    args = parser.parse_args()
    Handler.state = State(args.name, args.health_path)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True

    def shut_down(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    print(f"{args.name} listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
