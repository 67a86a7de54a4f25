"""A gRPC upstream the end-to-end tests control: health with a settable status, and echo.

Run as its own process (`python tests/e2e/apps/grpc_app.py --name NAME --port PORT
[--service S ...]`). It serves:

- `grpc.health.v1.Health` (grpcio-health-checking): the overall status ("") and each
  `--service` start SERVING; `Control/SetHealth` changes one.
- `/lucid.e2e.Echo/Echo`, a generic handler on raw bytes: the answer is JSON with the
  instance name, the method, the request metadata (so the caller identity the app sees,
  `x-lucid-source` and `x-forwarded-client-cert`, is in it) and the request body.
- `/lucid.e2e.Control/{SetHealth,Fail,Counts,Reset}` with JSON bodies:
  SetHealth {"service": "", "status": "NOT_SERVING"}; Fail {"count": N, "code":
  "UNAVAILABLE"} makes the next N echoes fail with that code; Counts returns how many
  echoes arrived (and failed); Reset forgets orders and counts.

Raw-bytes handlers keep the app free of generated code: any client can call it with
`channel.unary_unary(path)` and bytes.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

ECHO_METHOD = "/lucid.e2e.Echo/Echo"
CONTROL_SERVICE = "lucid.e2e.Control"


class State:
    def __init__(self, name: str, health_servicer: health.HealthServicer) -> None:
        self.name = name
        self.health = health_servicer
        self.lock = threading.Lock()
        self.fail_count = 0
        self.fail_code = grpc.StatusCode.UNAVAILABLE
        self.total = 0
        self.failed = 0

    def echo(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        metadata = {key: value for key, value in context.invocation_metadata()}
        with self.lock:
            self.total += 1
            fail = self.fail_count > 0
            if fail:
                self.fail_count -= 1
                self.failed += 1
        if fail:
            context.abort(self.fail_code, f"{self.name} was told to fail")
        answer = {
            "instance": self.name,
            "method": ECHO_METHOD,
            "metadata": metadata,
            "source": metadata.get("x-lucid-source"),
            "xfcc": metadata.get("x-forwarded-client-cert"),
            "body": request.decode(errors="replace"),
        }
        return json.dumps(answer, sort_keys=True).encode()

    def control(self, command: str, request: bytes) -> dict[str, Any]:
        order: dict[str, Any] = json.loads(request) if request else {}
        if command == "SetHealth":
            status = health_pb2.HealthCheckResponse.ServingStatus.Value(order["status"])
            self.health.set(order.get("service", ""), status)
        elif command == "Fail":
            with self.lock:
                self.fail_count = int(order.get("count", 1))
                self.fail_code = grpc.StatusCode[order.get("code", "UNAVAILABLE")]
        elif command == "Reset":
            with self.lock:
                self.fail_count, self.total, self.failed = 0, 0, 0
        with self.lock:
            return {"instance": self.name, "total": self.total, "failed": self.failed}


def handlers(state: State) -> list[grpc.GenericRpcHandler]:
    def control(command: str) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            lambda request, _context: json.dumps(state.control(command, request)).encode()
        )

    echo = grpc.method_handlers_generic_handler(
        "lucid.e2e.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(state.echo)}
    )
    controls = grpc.method_handlers_generic_handler(
        CONTROL_SERVICE,
        {name: control(name) for name in ("SetHealth", "Fail", "Counts", "Reset")},
    )
    return [echo, controls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--service", action="append", default=[], help="health service name")
    args = parser.parse_args()
    health_servicer = health.HealthServicer()
    for service in ["", *args.service]:
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    state = State(args.name, health_servicer)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    server.add_generic_rpc_handlers(handlers(state))
    server.add_insecure_port(f"{args.host}:{args.port}")
    server.start()
    print(f"{args.name} listening on {args.host}:{args.port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
