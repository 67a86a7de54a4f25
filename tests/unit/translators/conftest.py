"""Fixtures for translator tests: a `mesh` factory that turns builder documents into a
validated, frozen `MeshState`, as the control plane would after reading the store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.translators.state import MeshState, Status, build_state

Mesh = Callable[..., MeshState]


def make_mesh(
    registrations: Sequence[dict[str, Any]],
    sidecars: Sequence[dict[str, Any]] = (),
    traffic: Sequence[dict[str, Any]] = (),
    security: Sequence[dict[str, Any]] = (),
    statuses: Mapping[str, Status] | None = None,
) -> MeshState:
    return build_state(
        [ServiceRegistration.model_validate(r) for r in registrations],
        [SidecarConfiguration.model_validate(s) for s in sidecars],
        [TrafficPolicy.model_validate(t) for t in traffic],
        [SecurityPolicy.model_validate(s) for s in security],
        statuses=statuses or {},
    )


@pytest.fixture
def mesh() -> Mesh:
    return make_mesh
