"""Drive traffic through the demo mesh and judge each policy by the answers it got.

Every check sends real requests, either as an external client to the gateway's edge
listener or as the gateway's app through its sidecar's outbound listener, and reads the
evidence where a user would: status codes, headers, and what the apps behind the sidecars
say they received (`x-app-instance`, the echoed `x-forwarded-client-cert`, the apps'
request counters). Each returns a `Row`: the policy, the document that declares it, what
was seen, and whether that is the policy working.

The one slow check (the gateway's 5 s route timeout) runs in a thread of its own while the
others run, so the whole tour takes a few seconds more than that timeout.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from scripts.demo.topology import DemoMesh
from tests.e2e.harness.processes import wait_until

CALLER_ID = "spiffe://lucid.mesh/plane/ops/service/api-gateway"
SPLIT_REQUESTS = 300
# api-gateway's own rate-limit-api-calls (burst 200, 100 a second) guards /api/* at the
# edge: the checks pace themselves under it, and `edge_rate_limit` then goes past it.
EDGE_PACE_S = 1 / 80
EDGE_BURST_REQUESTS = 400
CANARY_SHARE = 0.10  # traffic.yaml gateway-to-chain-canary: 90 / 10
RATE_LIMIT_REQUESTS = 120  # tron-payment-service payment-rate-limit: burst 50, 600 a minute
MIRROR_REQUESTS = 40
MIRROR_SHARE = 0.25  # traffic.yaml mirror-sessions-to-audit: 25 %
SESSION_TIMEOUT_S = 5  # api-gateway routing: /api/v1/sessions/* timeout 5000


@dataclass(frozen=True)
class Row:
    policy: str
    declared: str
    seen: str
    ok: bool


def within_five_sigma(count: int, total: int, share: float) -> bool:
    """Whether `count` of `total` draws is within five standard deviations of `share`
    (a correct split fails this about once in two million runs)."""
    sigma = math.sqrt(total * share * (1 - share))
    return abs(count - total * share) <= 5 * sigma


def split_and_mtls(demo: DemoMesh, edge: httpx.Client) -> list[Row]:
    """GET /api/v1/blocks/N at the edge: the canary split, and mTLS at blockchain-core."""
    answers = []
    for n in range(SPLIT_REQUESTS):
        answers.append(edge.get(f"/api/v1/blocks/{n}"))
        time.sleep(EDGE_PACE_S)
    landed = Counter(a.headers.get("x-app-instance", f"HTTP {a.status_code}") for a in answers)
    canary = landed["blockchain-core-canary-01"]
    stable = landed["blockchain-core-01"] + landed["blockchain-core-02"]
    split = Row(
        "weighted split 90/10",
        "traffic.yaml gateway-to-chain-canary",
        f"blockchain-core {100 * stable / SPLIT_REQUESTS:.1f} % / "
        f"canary {100 * canary / SPLIT_REQUESTS:.1f} % of {SPLIT_REQUESTS} requests",
        stable + canary == SPLIT_REQUESTS
        and within_five_sigma(canary, SPLIT_REQUESTS, CANARY_SHARE),
    )
    # What the blockchain-core apps (mTLS on) were told about their caller.
    identities = {
        f"URI={CALLER_ID}" in (a.json().get("xfcc") or "")
        for a in answers
        if a.headers.get("x-app-instance", "").startswith("blockchain-core-0")
    }
    refused = plaintext_refused(demo["blockchain-core-01"].inbound_port)
    mtls = Row(
        "mTLS",
        "blockchain-core sidecar security.mTLS",
        f"app saw caller {CALLER_ID}; plaintext " + ("refused" if refused else "ANSWERED"),
        identities == {True} and refused,
    )
    return [split, mtls]


def plaintext_refused(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/api/v1/blocks/1", timeout=5)
    except httpx.TransportError:
        return True
    return False


def deny(demo: DemoMesh, edge: httpx.Client) -> Row:
    denied, allowed = edge.get("/admin/keys"), edge.get("/api/v1/blocks/7")
    reached = sum(
        demo[name].http_app.counts()["by_path"].get("/admin/keys", 0)
        for name in ("blockchain-core-01", "blockchain-core-02")
    )
    return Row(
        "deny",
        "security.yaml no-admin-from-gateway",
        f"/admin/keys {denied.status_code} {denied.text!r}; /api/v1/blocks/7 {allowed.status_code}",
        denied.status_code == 403 and allowed.status_code == 200 and reached == 0,
    )


def rate_limit(demo: DemoMesh, edge: httpx.Client) -> Row:
    app = demo["tron-payment-01"].http_app
    before = app.counts()["total"]
    statuses = Counter(
        edge.post(f"/api/v1/payments/{n}", content=b"{}").status_code
        for n in range(RATE_LIMIT_REQUESTS)
    )
    reached = app.counts()["total"] - before
    return Row(
        "rate limit",
        "tron-payment sidecar payment-rate-limit",
        f"{RATE_LIMIT_REQUESTS} POSTs: {statuses[200]} x 200, {statuses[429]} x 429; "
        f"app saw {reached}",
        statuses[200] + statuses[429] == RATE_LIMIT_REQUESTS
        and statuses[429] > 0
        and reached == statuses[200],
    )


def edge_rate_limit(edge: httpx.Client) -> Row:
    """A burst past the gateway's own limit: the edge answers 429 once the bucket is dry."""
    started = time.monotonic()
    answers = [edge.get(f"/api/v1/blocks/{n}") for n in range(EDGE_BURST_REQUESTS)]
    took = time.monotonic() - started
    statuses = Counter(a.status_code for a in answers)
    headed = all("x-ratelimit-limit" in a.headers for a in answers if a.status_code == 429)
    return Row(
        "edge rate limit",
        "api-gateway sidecar rate-limit-api-calls",
        f"{EDGE_BURST_REQUESTS} GETs in {took:.1f} s: {statuses[200]} x 200, "
        f"{statuses[429]} x 429 with x-ratelimit headers",
        statuses[200] + statuses[429] == EDGE_BURST_REQUESTS and statuses[429] > 0 and headed,
    )


def retries(demo: DemoMesh, edge: httpx.Client) -> Row:
    app = demo["session-recorder-01"].http_app
    app.fail_next(2, status=503)
    answer = edge.get("/api/v1/sessions/retried")
    attempts = app.counts()["by_path"].get("/api/v1/sessions/retried", 0)
    return Row(
        "retries",
        "api-gateway sidecar routing.retry",
        f"app failed twice (503): client got {answer.status_code}, app saw {attempts} attempts",
        answer.status_code == 200 and attempts == 3,
    )


def redirect(demo: DemoMesh) -> Row:
    answer = demo.gateway.call("tron-payment-service", "/api/v0/payments/42")
    location = answer.headers.get("location", "")
    return Row(
        "redirect",
        "traffic.yaml legacy-payments-redirect",
        f"/api/v0/payments/42: {answer.status_code} to {httpx.URL(location).path}",
        answer.status_code == 308 and httpx.URL(location).path == "/api/v1/payments/42",
    )


def mirror(demo: DemoMesh, edge: httpx.Client) -> Row:
    audit = demo["session-audit-01"].http_app
    answers = [edge.get(f"/api/v1/sessions/m{n}") for n in range(MIRROR_REQUESTS)]
    primary_only = {(a.status_code, a.headers.get("x-app-instance")) for a in answers} == {
        (200, "session-recorder-01")
    }
    # Copies are sent alongside the requests; give the last ones a moment to land.
    time.sleep(0.5)
    copies = audit.counts()["total"]
    return Row(
        "mirror 25 %",
        "traffic.yaml mirror-sessions-to-audit",
        f"session-audit got {copies} copies of {MIRROR_REQUESTS} "
        f"({100 * copies / MIRROR_REQUESTS:.0f} %); clients saw "
        + ("only the primary" if primary_only else "OTHER ANSWERS"),
        primary_only and copies > 0 and within_five_sigma(copies, MIRROR_REQUESTS, MIRROR_SHARE),
    )


class TimeoutCheck:
    """One request the session-recorder app answers after the gateway's route timeout,
    sent in a thread; `row()` waits for its answer."""

    PATH = "/api/v1/sessions/slow"

    def __init__(self, demo: DemoMesh) -> None:
        self.demo = demo
        self.answer: httpx.Response | Exception | None = None
        self._thread = threading.Thread(target=self._send, name="demo-timeout", daemon=True)

    def _send(self) -> None:
        try:
            with httpx.Client(base_url=self.demo.edge_url, timeout=30.0) as client:
                self.answer = client.get(self.PATH)
        except httpx.HTTPError as exc:
            self.answer = exc

    def start(self) -> None:
        """Delay the app's next answer past the timeout, send, and wait until the app has
        the request (so later orders to the app do not apply to it)."""
        app = self.demo["session-recorder-01"].http_app
        app.delay((SESSION_TIMEOUT_S + 1) * 1000, count=1)
        self._thread.start()
        wait_until(
            lambda: self.PATH in app.counts()["by_path"],
            timeout=10,
            what="the session-recorder app to receive the slow request",
        )

    def row(self) -> Row:
        self._thread.join(timeout=SESSION_TIMEOUT_S + 20)
        answer = self.answer
        status = answer.status_code if isinstance(answer, httpx.Response) else None
        text = answer.text if isinstance(answer, httpx.Response) else repr(answer)
        return Row(
            "timeout",
            f"api-gateway route timeout {SESSION_TIMEOUT_S} s",
            f"app {SESSION_TIMEOUT_S + 1} s late: client got {status} {text!r}",
            status == 504,
        )


def drive(demo: DemoMesh, progress: Callable[[str], None]) -> list[Row]:
    """Run every check; the rows in the order printed."""
    slow = TimeoutCheck(demo)
    slow.start()
    with httpx.Client(base_url=demo.edge_url, timeout=30.0) as edge:
        progress("canary split and mTLS")
        rows = split_and_mtls(demo, edge)
        progress("retries, rate limit, deny, redirect, mirror")
        rows += [
            retries(demo, edge),
            rate_limit(demo, edge),
            deny(demo, edge),
            redirect(demo),
            mirror(demo, edge),
        ]
        progress("a burst past the gateway's own rate limit")
        rows.append(edge_rate_limit(edge))
    progress(f"waiting for the request the {SESSION_TIMEOUT_S} s timeout cuts off")
    rows.append(slow.row())
    return rows
