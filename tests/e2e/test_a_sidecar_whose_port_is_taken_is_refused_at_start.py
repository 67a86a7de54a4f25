"""The harness refuses a sidecar whose listener could not bind its port.

Envoy answers `/ready` even when an LDS listener failed to bind, and requests to that port
then reach whatever holds it, past the sidecar. A test would see answers with no trace of
Envoy in them (a CI run once did: no `x-request-id`, no access-log line), so the harness
stops at the start with Envoy's own words instead. Ports the harness hands out are never
handed out twice in one run, which is how such a clash came about.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from tests.e2e.harness.mesh import Mesh
from tests.e2e.harness.processes import ProcessError, free_port


def test_a_sidecar_whose_outbound_port_is_held_by_an_app_does_not_start(
    mesh_in: Callable[..., AbstractContextManager[Mesh]],
) -> None:
    with mesh_in() as mesh:
        web = mesh.add_instance("web")
        mesh.register()
        web.outbound_port = web.app_port  # the app listens there already
        with pytest.raises(ProcessError, match="could not bind") as refused:
            mesh.start_sidecar(web)
        assert str(web.app_port) in str(refused.value)


def test_the_harness_never_hands_out_a_port_twice() -> None:
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)
