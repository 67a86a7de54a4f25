"""The shipped examples/ validate, and hold every kind for every example service."""

from __future__ import annotations

from pathlib import Path

from lucid.manifests import load_paths

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_the_examples_folder_validates():
    manifests = load_paths([str(EXAMPLES)])
    kinds = {m.kind.name for m in manifests}
    assert kinds == {
        "ServiceRegistration",
        "SidecarConfiguration",
        "TrafficPolicy",
        "SecurityPolicy",
        "EventSubscription",
    }


def test_the_examples_register_the_spec_services():
    manifests = load_paths([str(EXAMPLES)])
    names = {m.model.serviceName for m in manifests if m.kind.name == "ServiceRegistration"}
    assert names == {"api-gateway", "blockchain-core", "session-recorder", "tron-payment-service"}
