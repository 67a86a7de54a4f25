"""A change in the registry reaches running Envoys (SotW and delta) and traffic follows
it: a new instance starts taking requests, a deregistered one stops."""

from __future__ import annotations

from tests.e2e.harness.mesh import Mesh
from tests.envoy.conftest import TRANSPORTS, answered_by, caller_and_backend, eventually, proxies


@TRANSPORTS
def test_traffic_moves_to_the_instance_that_replaced_the_old_one(mesh: Mesh, delta: bool) -> None:
    caller, first = caller_and_backend(mesh, delta=delta)
    assert answered_by(caller, "backend") == first.instance_id
    before = proxies(mesh)[caller.instance_id]["types"]["EDS"]["sentVersion"]
    second = mesh.add_instance("backend")
    mesh.register(second)
    mesh.start_sidecar(second, delta=delta)
    mesh.deregister(first)
    eventually(
        lambda: answered_by(caller, "backend") == second.instance_id,
        "requests to reach the new backend",
        mesh,
    )
    # Once moved, every request goes to the new instance: the old one is gone from EDS.
    assert {answered_by(caller, "backend") for _ in range(10)} == {second.instance_id}
    after = proxies(mesh)[caller.instance_id]["types"]["EDS"]
    assert after["sentVersion"] != before and after["inSync"]


@TRANSPORTS
def test_a_new_service_becomes_reachable(mesh: Mesh, delta: bool) -> None:
    caller, _ = caller_and_backend(mesh, delta=delta)
    assert caller.call("ledger", "/").status_code != 200
    ledger = mesh.add_instance("ledger")
    mesh.register(ledger)
    mesh.start_sidecar(ledger, delta=delta)
    eventually(
        lambda: answered_by(caller, "ledger") == ledger.instance_id,
        "the new service to be reachable",
        mesh,
    )
