"""The Docker backend of the Envoy runner: `envoyproxy/envoy` through the docker SDK.

The container gets host networking, so every port (listeners, admin, the xDS server on
127.0.0.1) means what it means for the local binary, and the work folder is mounted at
the same path, so the bootstrap, admin-address file and logs are where `Envoy` looks.
It runs as the calling user, so the files it writes stay readable. Chosen by
`runner_from_env` when `LUCID_ENVOY_RUNNER=docker` and `docker_unavailable()` is None;
tests that need it skip with that reason otherwise.
"""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path
from typing import Any

from tests.e2e.harness.envoy import (
    ENVOY_IMAGE,
    LOG_LEVEL_ENV,
    Envoy,
    envoy_args,
    prepare_workdir,
    written_admin_url,
)
from tests.e2e.harness.processes import START_TIMEOUT, STOP_TIMEOUT, wait_until

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"


def docker_unavailable() -> str | None:
    """Why the Docker runner cannot be used here, or None when an engine answers."""
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return "the docker SDK is not installed"
    host = os.environ.get("DOCKER_HOST")
    if not host and not Path(DEFAULT_DOCKER_SOCKET).exists():
        return f"no Docker engine: DOCKER_HOST is unset and {DEFAULT_DOCKER_SOCKET} does not exist"
    # A failed handshake leaves the SDK's socket to the garbage collector; collect it here,
    # where its ResourceWarning is expected, rather than in some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:
            return f"no Docker engine answers at {host or DEFAULT_DOCKER_SOCKET} ({exc})"
        finally:
            gc.collect()
    return None


class _Container:
    def __init__(self, container: Any, workdir: Path) -> None:
        self.container = container
        self.workdir = workdir

    def stop(self) -> int:
        try:
            self.container.stop(timeout=int(STOP_TIMEOUT))
            code = int(self.container.wait(timeout=STOP_TIMEOUT).get("StatusCode", -1))
            (self.workdir / "access.log").write_bytes(self.container.logs(stderr=False))
        finally:
            self.container.remove(force=True)
        return code


class DockerRunner:
    """`envoyproxy/envoy` through the docker SDK, host networking, work folder mounted."""

    name = "docker"

    def __init__(self, image: str = ENVOY_IMAGE, log_level: str | None = None) -> None:
        import docker

        self.client = docker.from_env()
        self.image = image
        self.log_level = log_level or os.environ.get(LOG_LEVEL_ENV, "info")

    def start(self, name: str, bootstrap: dict[str, Any], workdir: Path) -> Envoy:
        prepare_workdir(bootstrap, workdir)
        folder = str(workdir.resolve())
        container = self.client.containers.run(
            self.image,
            command=["envoy", *envoy_args(workdir.resolve(), self.log_level)],
            network_mode="host",
            volumes={folder: {"bind": folder, "mode": "rw"}},
            user=f"{os.getuid()}:{os.getgid()}",
            name=f"lucid-e2e-{name}-{os.getpid()}",
            detach=True,
        )
        stopper = _Container(container, workdir)
        try:
            wait_until(
                lambda: written_admin_url(workdir) is not None,
                timeout=START_TIMEOUT,
                what=f"envoy {name} (docker) to write its admin address",
            )
        except TimeoutError:
            stopper.stop()
            raise
        url = written_admin_url(workdir)
        assert url is not None
        return Envoy(name, workdir, url, stopper)
