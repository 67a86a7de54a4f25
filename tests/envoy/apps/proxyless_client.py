"""A proxyless gRPC client: `xds:///TARGET` resolved by grpcio's own xDS client.

Run as its own process, because grpcio reads its xDS bootstrap (GRPC_XDS_BOOTSTRAP or
GRPC_XDS_BOOTSTRAP_CONFIG) once per process. It reads commands on stdin, one per line,
and answers one JSON line each on stdout:

    health   grpc.health.v1.Health/Check through the xDS channel → {"status": "SERVING"}
    echo     the upstream's echo method → {"instance": "<the app that answered>"}
    quit

A failed RPC answers {"error": "<code>", "details": "..."}.
"""

from __future__ import annotations

import json
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ECHO_METHOD = "/lucid.e2e.Echo/Echo"
TIMEOUT = 10.0


def main() -> None:
    target = sys.argv[1]
    channel = grpc.insecure_channel(f"xds:///{target}")
    health = health_pb2_grpc.HealthStub(channel)
    echo = channel.unary_unary(ECHO_METHOD)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        try:
            if command == "health":
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
                name = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
                out: dict[str, str] = {"status": name}
            else:
                out = {"instance": json.loads(echo(b"", timeout=TIMEOUT))["instance"]}
        except grpc.RpcError as exc:
            out = {"error": exc.code().name, "details": exc.details() or ""}
        print(json.dumps(out), flush=True)
    channel.close()


if __name__ == "__main__":
    main()
