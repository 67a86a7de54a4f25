"""Every node of `examples/`, and every node of a generated mesh with every feature in use,
renders (`lucid.render`) to a static bootstrap the real Envoy 1.40 accepts.

The bootstrap holds every resource the node would receive over ADS (EDS and RDS inlined,
SDS secrets static), with real certificates from an ephemeral mesh CA, so Envoy checks the
clusters, listeners, filters, routes and TLS contexts exactly as it would after a push.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import MappingProxyType

import pytest
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2

from lucid.ca import CertificateAuthority
from lucid.manifests import load_paths
from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.render import bootstrap, find_node, mesh_state, render_node
from lucid.translators.mesh import NodeResources
from lucid.xds.resources import LISTENER
from tests.builders import endpoint, instance
from tests.envoy_validate.conftest import envoy_validate, validate_all
from tests.every_feature_mesh import EVERY_FEATURE_NODES, every_feature_mesh

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MANIFESTS = load_paths([str(EXAMPLES)])
EXAMPLE_NODES = sorted(
    m.model.instanceId or m.model.serviceId
    for m in MANIFESTS
    if isinstance(m.model, ServiceRegistration)
)
LABELS = [f"examples/{node}" for node in EXAMPLE_NODES] + [
    f"every-feature/{node}" for node in EVERY_FEATURE_NODES
]
MODELS = {
    "registrations": ServiceRegistration,
    "sidecars": SidecarConfiguration,
    "traffic": TrafficPolicy,
    "security": SecurityPolicy,
}


def every_feature_state(ca: CertificateAuthority):
    own = ca.issue("tron-payment-service", "wallet")
    documents = every_feature_mesh(own.certificate_chain, own.private_key, ca.trust_bundle())
    models = [MODELS[kind].model_validate(d) for kind, found in documents.items() for d in found]
    return mesh_state(models, ca)


@pytest.fixture(scope="module")
def rendered():
    ca = CertificateAuthority.ephemeral()
    bootstraps = {}
    examples = mesh_state((m.model for m in MANIFESTS), ca)
    for node in EXAMPLE_NODES:
        bootstraps[f"examples/{node}"] = bootstrap(render_node(examples, find_node(examples, node)))
    generated = every_feature_state(ca)
    for node in EVERY_FEATURE_NODES:
        bootstraps[f"every-feature/{node}"] = bootstrap(
            render_node(generated, find_node(generated, node))
        )
    return bootstraps


@pytest.fixture(scope="module")
def verdicts(rendered, tmp_path_factory):
    return validate_all(rendered, tmp_path_factory.mktemp("bootstraps"))


@pytest.mark.parametrize("label", LABELS)
def test_envoy_accepts_the_rendered_node(verdicts, label):
    verdict = verdicts[label]

    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_the_examples_have_a_node_per_registration():
    assert EXAMPLE_NODES == [
        "api-gateway-01",
        "blockchain-core-01",
        "blockchain-core-02",
        "session-recorder-01",
        "tron-payment-01",
    ]


def _walk(value, types, fields):
    if isinstance(value, dict):
        for key, item in value.items():
            fields.add(key)
            if key == "@type":
                types.add(item.rpartition(".")[2])
            _walk(item, types, fields)
    elif isinstance(value, list):
        for item in value:
            _walk(item, types, fields)


def test_the_generated_mesh_really_uses_every_feature(rendered):
    types, fields = set(), set()
    for label, document in rendered.items():
        if label.startswith("every-feature/"):
            _walk(document, types, fields)

    assert {
        "DownstreamTlsContext",
        "UpstreamTlsContext",
        "JwtAuthentication",
        "RBAC",
        "LocalRateLimit",
        "StatefulSession",
        "ConnectionLimit",
        "StdoutAccessLog",
        "OpenTelemetryConfig",
    } <= types
    assert {
        "health_checks",
        "circuit_breakers",
        "outlier_detection",
        "hash_policy",
        "retry_policy",
        "retry_back_off",
        "per_try_timeout",
        "idle_timeout",
        "weighted_clusters",
        "request_mirror_policies",
        "redirect",
        "prefix_rewrite",
        "query_parameters",
        "require_client_certificate",
        "match_typed_subject_alt_names",
    } <= fields


def as_envoy_listeners(resources: NodeResources) -> NodeResources:
    """A proxyless client's view with each api listener's connection manager moved into an
    ordinary listener: Envoy builds carry no api listener extension, but can still check
    the connection managers, routes and clusters a gRPC client receives."""
    listeners = {}
    for port, (name, api) in enumerate(resources.resources[LISTENER].items(), start=20000):
        listener = listener_pb2.Listener(name=name)
        listener.address.socket_address.address = "127.0.0.1"
        listener.address.socket_address.port_value = port
        listener.filter_chains.append(
            listener_components_pb2.FilterChain(
                filters=[
                    listener_components_pb2.Filter(
                        name="envoy.filters.network.http_connection_manager",
                        typed_config=api.api_listener.api_listener,
                    )
                ]
            )
        )
        listeners[name] = listener
    return NodeResources(
        node=dataclasses.replace(resources.node, proxyless=False),
        resources=MappingProxyType({**resources.resources, LISTENER: MappingProxyType(listeners)}),
    )


def test_a_proxyless_clients_routes_and_clusters_are_valid_envoy_config(tmp_path):
    registrations = [
        ServiceRegistration.model_validate(
            instance(
                name,
                n,
                instanceId=f"{name}-1",
                endpoint=endpoint(host=f"10.0.0.{n}", protocol="grpc"),
            )
        )
        for n, name in enumerate(["ledger", "blocks", "wallet"], start=1)
    ]
    state = mesh_state(registrations)
    rendered = render_node(state, find_node(state, "ledger-1", proxyless=True))
    assert rendered.names(LISTENER), "a proxyless client gets api listeners"
    path = tmp_path / "proxyless.json"
    path.write_text(json.dumps(bootstrap(as_envoy_listeners(rendered))))

    verdict = envoy_validate(path)

    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_envoy_refuses_a_bootstrap_whose_secret_is_missing(tmp_path):
    """The check is real: the same bootstrap without its identity secret is refused."""
    state = mesh_state((m.model for m in MANIFESTS), CertificateAuthority.ephemeral())
    rendered = bootstrap(render_node(state, find_node(state, "api-gateway-01")))
    static = rendered["static_resources"]
    static["secrets"] = [s for s in static["secrets"] if s["name"] != "lucid-identity"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(rendered))

    verdict = envoy_validate(path)

    assert verdict.returncode != 0
    assert "lucid-identity" in verdict.stdout + verdict.stderr
