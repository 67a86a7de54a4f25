"""An incremental translation gives exactly the bytes a full one gives, change after change.

`Translation(state, previous=...)` reuses whatever a change cannot affect; a wrong guess
would leave a proxy with stale configuration, silently. So a seeded random walk of
changes of every kind (a policy edited, added or removed, a health flip, a sidecar edited,
an instance added, a certificate reissued, a service removed) is applied to a generated
mesh, and after each one every node's resources (gateways' too) are compared, byte for byte, with a
translation from scratch.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from benchmarks.meshgen import generate
from lucid.render import sidecar_nodes
from lucid.translators.mesh import Translation
from lucid.translators.node import Node
from lucid.translators.state import Identity, MeshState, build_state


def nodes_of(state: MeshState) -> list[Node]:
    """Every instance's sidecar, and gateway nodes (two edge ports) of a few services:
    a gateway's edge routes carry its own access rules, which its edge port shapes."""
    nodes = sidecar_nodes(state)
    gateways = [
        dataclasses.replace(node, id=f"{node.id}-edge-{port}", edge_port=port)
        for node in nodes[:: max(1, len(nodes) // 4)]
        for port in (15443, 15444)
    ]
    return nodes + gateways


def serialized(translation: Translation, nodes: list[Node]) -> dict[str, dict[str, bytes]]:
    result = {}
    for node in nodes:
        resources = translation.node(node)
        translation.check(resources)
        result[node.id] = {
            f"{type_url}/{name}": message.SerializeToString(deterministic=True)
            for type_url, named in resources.resources.items()
            for name, message in named.items()
        }
    return result


class World:
    """Mutable inputs; each change replaces only the objects it touches."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.registrations, self.sidecars, self.traffic, self.security = generate(
            30, 2, 40, 12, dependencies=4
        )
        self.statuses: dict[str, str] = {}
        self.identities = {
            r.serviceName: Identity(f"cert-{r.serviceName}", "key") for r in self.registrations
        }

    def state(self, previous: MeshState | None) -> MeshState:
        return build_state(
            self.registrations,
            self.sidecars,
            self.traffic,
            self.security,
            statuses=self.statuses,
            identities=self.identities,
            trust_bundle="trust",
            previous=previous,
        )

    def change(self) -> str:
        rng = self.rng
        kind = rng.choice(
            [
                "edit-traffic",
                "remove-traffic",
                "edit-security",
                "widen-security",
                "health",
                "health",
                "sidecar",
                "add-instance",
                "identity",
                "remove-service",
                "edit-endpoint",
            ]
        )
        if kind == "edit-traffic" and self.traffic:
            i = rng.randrange(len(self.traffic))
            policy = self.traffic[i]
            self.traffic[i] = policy.model_copy(update={"priority": rng.randint(1, 1000)})
        elif kind == "remove-traffic" and self.traffic:
            self.traffic.pop(rng.randrange(len(self.traffic)))
        elif kind == "edit-security" and self.security:
            i = rng.randrange(len(self.security))
            self.security[i] = self.security[i].model_copy(update={"enabled": rng.random() < 0.5})
        elif kind == "widen-security" and self.security:
            # A rule for any caller (`*`) also applies on a gateway's edge.
            i = rng.randrange(len(self.security))
            source = "plane:ops" if self.security[i].source == "*" else "*"
            self.security[i] = self.security[i].model_copy(update={"source": source})
        elif kind == "health":
            registration = rng.choice(self.registrations)
            self.statuses[registration.serviceId] = rng.choice(
                ["healthy", "unhealthy", "degraded", "expired"]
            )
        elif kind == "sidecar" and self.sidecars:
            i = rng.randrange(len(self.sidecars))
            sidecar = self.sidecars[i]
            routing = sidecar.routing.model_copy(update={"timeout": None})
            self.sidecars[i] = sidecar.model_copy(update={"routing": routing})
        elif kind == "add-instance":
            template = rng.choice(self.registrations)
            number = len(self.registrations) + 500
            endpoint = template.endpoint.model_copy(
                update={"host": f"10.9.{number // 250}.{number % 250}"}
            )
            self.registrations.append(
                template.model_copy(
                    update={
                        "serviceId": f"00000000-0000-4000-9000-{number:012d}",
                        "instanceId": f"extra-{number}",
                        "endpoint": endpoint,
                    }
                )
            )
        elif kind == "identity":
            name = rng.choice(self.registrations).serviceName
            self.identities[name] = Identity(f"cert-{name}-{rng.random()}", "key")
        elif kind == "edit-endpoint":
            # The base path and protocol of a destination shape its callers' routes.
            i = rng.randrange(len(self.registrations))
            registration = self.registrations[i]
            endpoint = registration.endpoint.model_copy(
                update={"path": f"/v{rng.randint(1, 9)}", "protocol": rng.choice(["http", "grpc"])}
            )
            self.registrations[i] = registration.model_copy(update={"endpoint": endpoint})
        elif kind == "remove-service":
            name = rng.choice(self.registrations).serviceName
            self.registrations = [r for r in self.registrations if r.serviceName != name]
        return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_change_gives_the_same_bytes_as_a_full_translation(seed):
    world = World(random.Random(seed))
    state = world.state(None)
    translation = Translation(state)
    serialized(translation, nodes_of(state))
    for step in range(30):
        kind = world.change()
        state = world.state(translation.state)
        incremental = Translation(state, previous=translation)
        nodes = nodes_of(state)

        assert serialized(incremental, nodes) == serialized(Translation(state), nodes), (
            f"step {step}: {kind}"
        )
        translation = incremental


def test_an_unchanged_state_reuses_every_node_view():
    world = World(random.Random(9))
    state = world.state(None)
    first = Translation(state)
    nodes = nodes_of(state)
    before = {n: first.node(n) for n in nodes}

    again = Translation(world.state(state), previous=first)

    assert all(again.node(n) is before[n] for n in nodes)
