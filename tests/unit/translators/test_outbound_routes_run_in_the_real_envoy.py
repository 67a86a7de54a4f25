"""The real Envoy 1.40 accepts the source side and behaves as the routes say.

`envoy --mode validate` checks a gateway node with every source-side feature in use
(its outbound listener with `routes-out` inline, the edge routes, the clusters).
Then a live Envoy runs a sidecar's outbound listener in front of small local echo apps,
and real requests show the routing: by Host in every mesh form and port, the base-path
rewrite, the source header overwriting the app's, a redirect rule, the catch-all table,
503 for an unregistered default route, and the sticky-session cookie.
"""

from __future__ import annotations

import contextlib
import copy
import http.client
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lucid.render import bootstrap
from lucid.translators.mesh import translate_node
from lucid.translators.node import SOURCE_HEADER
from tests.builders import (
    circuit_break_policy,
    endpoint,
    health_check,
    instance,
    load_balancing,
    policy_rule,
    retry_config,
    route,
    routing,
    sidecar_for,
    sidecar_policy,
    traffic_policy,
    traffic_rule,
)
from tests.e2e.harness.processes import free_port
from tests.envoy_validate.conftest import envoy_validate
from tests.unit.translators.conftest import make_mesh
from tests.unit.translators.destination_envoy import running_envoy
from tests.unit.translators.source_side import node


def every_source_feature(mesh):
    grpc = endpoint(host="10.0.0.3", protocol="grpc")
    registrations = [
        instance("gateway", 1),
        instance("ledger", 2, endpoint=endpoint(host="10.0.0.2", path="/api/v1")),
        instance("ledger-grpc", 3, endpoint=grpc),
        instance("ledger-canary", 4),
        instance("sessions", 5),
        instance("audit", 6),
        instance("carts", 7, endpoint=endpoint(host="carts.lucid.onion")),
    ]
    gateway = routing(
        defaultRoute="ledger",
        routes=[
            route(match={"path": "/s/*", "method": "GET"}, destination="sessions", timeout=4000),
            route(match={"path": "regex:^/g/[a-z]+$"}, destination="ledger-grpc"),
            route(
                match={"path": "/blocks/*", "headers": {"x-canary": "1"}, "query": {"v": "2"}},
                destination="ledger",
                weight=70,
            ),
            route(
                match={"path": "/blocks/*", "headers": {"x-canary": "1"}, "query": {"v": "2"}},
                destination="ledger-canary",
                weight=30,
            ),
            route(match={"path": "/gone"}, destination="not-registered"),
        ],
        retry=retry_config(retryableErrors=["5xx", "timeout", "connection-error", "unavailable"]),
        timeout={"request": 20000, "response": 5000, "idle": 60000},
    )
    policies = [
        sidecar_policy(
            "retry",
            conditions={"destination": "ledger", "path": "/api/v1/pay/*", "method": "POST"},
            rules=[policy_rule("retry", parameters=retry_config(maxAttempts=1))],
        ),
        sidecar_policy(
            "timeout",
            conditions={"destination": "sessions"},
            rules=[policy_rule("timeout", parameters={"request": 2000})],
        ),
    ]
    sidecars = [
        sidecar_for(1, routing=gateway, policies=policies),
        sidecar_for(
            2,
            routing=routing(
                defaultRoute="gateway",
                loadBalancing=load_balancing(algorithm="consistent-hash", hashOn="cookie:user"),
            ),
            policies=[circuit_break_policy(timeout=3000)],
        ),
        sidecar_for(
            3,
            routing=routing(
                defaultRoute="gateway", loadBalancing=load_balancing(algorithm="consistent-hash")
            ),
        ),
        sidecar_for(
            7,
            routing=routing(
                defaultRoute="gateway",
                loadBalancing=load_balancing(
                    stickySession={"enabled": True, "cookie": "cart", "ttl": 600}
                ),
            ),
        ),
    ]
    split = {
        "destinations": [
            {"destination": "ledger", "weight": 90},
            {"destination": "ledger-canary", "weight": 10},
        ]
    }
    traffic = [
        traffic_policy(
            name="canary",
            source="gateway",
            destination="ledger",
            priority=300,
            rules=[traffic_rule("weighted-split", match={"path": "/api/v2/*"}, parameters=split)],
        ),
        traffic_policy(
            name="shadow",
            source="gateway",
            destination="ledger",
            rules=[
                traffic_rule(
                    "mirror",
                    match={"path": "/api/*", "headers": {"x-shadow": "yes"}},
                    parameters={"destination": "audit", "percentage": 12.5},
                )
            ],
        ),
        traffic_policy(
            name="moved",
            source="gateway",
            destination="sessions",
            rules=[
                traffic_rule(
                    "redirect",
                    match={"path": "regex:^/legacy/.*"},
                    parameters={
                        "target": "https://sessions.lucid.onion:8443/new",
                        "statusCode": 307,
                    },
                )
            ],
        ),
    ]
    return mesh(registrations, sidecars, traffic)


def test_envoy_accepts_a_gateway_with_every_source_side_feature(mesh, tmp_path):
    state = every_source_feature(mesh)
    document = bootstrap(translate_node(state, node("gateway", edge_port=free_port())))
    names = [listener["name"] for listener in document["static_resources"]["listeners"]]
    assert "lucid-outbound" in names
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(document))
    verdict = envoy_validate(path)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_the_check_catches_what_envoy_refuses(mesh, tmp_path):
    """Two virtual hosts claiming one domain are refused: the validation is real."""
    document = bootstrap(translate_node(every_source_feature(mesh), node("gateway")))
    broken = copy.deepcopy(document)
    (outbound,) = [
        listener
        for listener in broken["static_resources"]["listeners"]
        if listener["name"] == "lucid-outbound"
    ]
    hosts = outbound["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
    hosts["virtual_hosts"][1]["domains"].append(hosts["virtual_hosts"][0]["domains"][0])
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    verdict = envoy_validate(path)
    assert verdict.returncode != 0
    assert "domain" in (verdict.stdout + verdict.stderr).lower()


# A live Envoy -----------------------------------------------------------------------------


def _echo_handler(name: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {"service": name, "path": self.path, "source": self.headers.get(SOURCE_HEADER)}
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Echo


@contextlib.contextmanager
def echo_apps(*names: str) -> Iterator[dict[str, int]]:
    """One local HTTP app per name, answering with its name, the path and the source."""
    servers = {
        n: http.server.ThreadingHTTPServer(("127.0.0.1", 0), _echo_handler(n)) for n in names
    }
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers.values()]
    for thread in threads:
        thread.start()
    try:
        yield {n: int(s.server_address[1]) for n, s in servers.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def get(port: int, host: str, path: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        data = json.loads(body) if response.getheader("content-type") == "application/json" else {}
        return response.status, response.headers, data
    finally:
        connection.close()


@pytest.fixture(scope="module")
def outbound_envoy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outbound")
    with echo_apps("ledger", "sessions", "carts") as ports:

        def local(name: str, number: int, **fields: Any):
            where = endpoint(host="127.0.0.1", port=ports[name], **fields)
            return instance(name, number, endpoint=where, healthCheck=health_check(interval=60))

        registrations = [
            instance("gateway", 1),
            local("ledger", 2, path="/base"),
            local("sessions", 3),
            local("carts", 4),
        ]
        sidecars = [
            sidecar_for(
                1,
                routing=routing(
                    defaultRoute="not-registered",
                    routes=[route(match={"path": "/s/*"}, destination="sessions")],
                ),
            ),
            sidecar_for(
                4,
                routing=routing(
                    defaultRoute="gateway",
                    loadBalancing=load_balancing(stickySession={"enabled": True, "cookie": "cart"}),
                ),
            ),
        ]
        moved = traffic_policy(
            name="moved",
            source="gateway",
            destination="sessions",
            rules=[
                traffic_rule(
                    "redirect",
                    match={"path": "/old/*"},
                    parameters={"target": "/new", "statusCode": 308},
                )
            ],
        )
        state = make_mesh(registrations, sidecars, [moved])
        port = free_port()
        document = bootstrap(translate_node(state, node("gateway", outbound_port=port)))
        with running_envoy(document, folder, port):
            yield port


def test_a_destination_is_reached_by_every_mesh_name_and_any_port(outbound_envoy):
    for host in ("sessions", "sessions:80", "sessions.lucid.onion", "sessions.lucid.onion:15001"):
        status, _, data = get(outbound_envoy, host, "/ping")
        assert (status, data["service"], data["path"]) == (200, "sessions", "/ping"), host


def test_the_source_header_replaces_what_the_app_sent(outbound_envoy):
    _, _, data = get(outbound_envoy, "sessions", "/", {SOURCE_HEADER: "someone-else"})
    assert data["source"] == "gateway"


def test_the_base_path_is_put_in_front_unless_already_there(outbound_envoy):
    assert get(outbound_envoy, "ledger", "/blocks/7")[2]["path"] == "/base/blocks/7"
    assert get(outbound_envoy, "ledger", "/base/blocks/7")[2]["path"] == "/base/blocks/7"


def test_a_redirect_rule_answers_with_the_new_location(outbound_envoy):
    status, headers, _ = get(outbound_envoy, "sessions", "/old/42")
    assert status == 308
    assert headers["location"].endswith("/new/42")


def test_a_request_naming_no_destination_follows_the_routing_table(outbound_envoy):
    status, _, data = get(outbound_envoy, "localhost", "/s/9")
    assert (status, data["service"]) == (200, "sessions")
    assert get(outbound_envoy, "localhost", "/elsewhere")[0] == 503


def test_a_sticky_destination_hands_out_its_session_cookie(outbound_envoy):
    status, headers, data = get(outbound_envoy, "carts", "/")
    assert (status, data["service"]) == (200, "carts")
    assert headers["set-cookie"].startswith("cart=")
