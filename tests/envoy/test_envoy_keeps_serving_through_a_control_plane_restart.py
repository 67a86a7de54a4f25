"""While the control plane is down, Envoys keep their last configuration and keep serving;
when it comes back (same store, same xDS address) they reconnect and resync, to the very
same versions, because versions are hashes of the configuration. Not one request fails."""

from __future__ import annotations

import threading

import httpx

from tests.e2e.harness.lucid import start_lucid_server
from tests.e2e.harness.mesh import Instance, Mesh
from tests.envoy.conftest import TRANSPORTS, caller_and_backend, eventually, proxies, synced

TYPES = ("CDS", "EDS", "LDS", "RDS")


class Traffic:
    """Requests from the caller to the backend, one after another, until stopped."""

    def __init__(self, caller: Instance) -> None:
        self.url = caller.outbound_url
        self.results: list[int | str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10.0) as client:
            while not self._stop.is_set():
                try:
                    status: int | str = client.get("/", headers={"host": "backend"}).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.results.append(status)
                self._stop.wait(0.02)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def versions(mesh: Mesh, node: str) -> dict[str, str]:
    types = proxies(mesh)[node]["types"]
    return {t: types[t]["ackedVersion"] for t in TYPES}


@TRANSPORTS
def test_envoys_serve_through_a_restart_and_resync_to_the_same_versions(
    mesh: Mesh, delta: bool
) -> None:
    caller, backend = caller_and_backend(mesh, delta=delta)
    for node in (caller.instance_id, backend.instance_id):
        eventually(lambda n=node: synced(mesh, n), f"{node} to be in sync", mesh)  # type: ignore[misc]
    before = {n: versions(mesh, n) for n in (caller.instance_id, backend.instance_id)}
    assert mesh.server is not None and mesh.server.xds_port is not None
    xds_port, data_dir = mesh.server.xds_port, mesh.server.data_dir
    with Traffic(caller) as traffic:
        assert mesh.server.stop() == 0
        mesh.server = None
        eventually(
            lambda: caller.sidecar.stat("control_plane.connected_state") == 0,
            "the caller to notice the control plane is gone",
        )
        served_while_down = len(traffic.results)
        eventually(lambda: len(traffic.results) > served_while_down + 10, "traffic while down")
        mesh.server = start_lucid_server(data_dir, extra_args=["--xds-port", str(xds_port)])
        for node in (caller.instance_id, backend.instance_id):
            eventually(lambda n=node: synced(mesh, n), f"{node} to resync", mesh)  # type: ignore[misc]
        assert caller.sidecar.stat("control_plane.connected_state") == 1
    assert traffic.results and set(traffic.results) == {200}
    after = {n: versions(mesh, n) for n in before}
    assert after == before
