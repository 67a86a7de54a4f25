"""A whole mesh on one machine: `lucid serve`, registered instances, apps and sidecars.

Every instance of a service is three things on free ports of 127.0.0.1: its app (the HTTP
or gRPC upstream of `upstreams.py`), its Envoy sidecar, and its registration, which
advertises the sidecar's inbound port, so callers reach the app only through the sidecar.

    caller app ─► 127.0.0.1:outboundPort  [caller's sidecar: routes, retries, splits ...]
               ─► 127.0.0.1:inboundPort   [callee's sidecar: mTLS, JWT, RBAC, rate limit]
               ─► 127.0.0.1:appPort       [callee's app]

Registrations, sidecar configurations and policies are applied with the real `lucid
apply`; each sidecar's bootstrap comes from `lucid bootstrap` (xDS from this `lucid
serve`). `bootstrap="static"` instead renders each sidecar's whole configuration offline
with `lucid render` (`LUCID_E2E_BOOTSTRAP=static` in the tests): it isolates the
translators from the xDS server when a scenario fails, but each render has its own
ephemeral CA (no mTLS between sidecars) and nothing changes after start.

`Mesh.close()` stops the sidecars, then the apps, then the server, each by its PID.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import yaml

from tests.e2e.harness.envoy import Envoy, EnvoyRunner, runner_from_env
from tests.e2e.harness.instance import Instance, MeshError
from tests.e2e.harness.lucid import LucidServer, Run, runner, start_lucid_server
from tests.e2e.harness.processes import free_port
from tests.e2e.harness.upstreams import start_grpc_app, start_http_app

__all__ = [
    "Instance",
    "Mesh",
    "MeshError",
    "default_health_check",
    "document",
    "running_mesh",
    "service_id",
]

API_VERSION = "lucid.mesh/v1"
ID_NAMESPACE = uuid.UUID("6c7563d1-6d65-5368-8000-000000000000")
BootstrapMode = Literal["xds", "static"]


def service_id(service: str, instance: str) -> str:
    """A stable serviceId per instance, so manifests written before the run can name it."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{service}/{instance}"))


def document(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "spec": dict(spec)}


def default_health_check(protocol: str) -> dict[str, Any]:
    """Checks rare enough not to matter unless a test asks for them: a failure that does not
    reach `failureThreshold` leaves an unknown instance unknown (routable)."""
    check: dict[str, Any] = {
        "endpoint": "/health",
        "interval": 300,
        "timeout": 2,
        "failureThreshold": 10,
    }
    if protocol.startswith("grpc"):
        check["grpcCheck"] = {"service": "", "timeout": 2}
    else:
        check["httpCheck"] = {"method": "GET"}
    return check


class Mesh:
    """`lucid serve` plus the instances a test adds; use as a context manager."""

    def __init__(
        self,
        workdir: Path,
        *,
        envoy_runner: EnvoyRunner | None = None,
        bootstrap: BootstrapMode = "xds",
        store_url: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.envoy_runner = envoy_runner or runner_from_env()
        self.bootstrap_mode = bootstrap
        self.store_url = store_url
        self.server: LucidServer | None = None
        self.instances: dict[str, Instance] = {}
        self._manifests: list[Path] = []

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Mesh:
        self.server = start_lucid_server(self.workdir / "data", store_url=self.store_url)
        return self

    def close(self) -> None:
        for instance in reversed(list(self.instances.values())):
            instance.close()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> Mesh:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def lucid(self) -> Run:
        """`lucid ...` as an operator's shell pointed at this mesh's server runs it."""
        if self.server is None:
            raise MeshError("the mesh is not started")
        return runner(self.server.cli_env())

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`lucid ARGS`, raising MeshError with its output when it fails."""
        done = self.lucid(*args, stdin=stdin)
        if done.returncode != 0:
            raise MeshError(
                f"lucid {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    # -- manifests -------------------------------------------------------------------

    def write_manifest(self, documents: list[dict[str, Any]] | str, name: str) -> Path:
        text = documents if isinstance(documents, str) else yaml.safe_dump_all(documents)
        path = self.workdir / "manifests" / f"{len(self._manifests):03d}-{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def apply(self, documents: list[dict[str, Any]] | str, name: str = "manifest") -> str:
        """`lucid apply -f` a file holding `documents` (YAML text or dicts); its output."""
        path = self.write_manifest(documents, name)
        done = self.run("apply", "-f", str(path))
        self._manifests.append(path)
        return done.stdout

    def delete(self, documents: list[dict[str, Any]] | str, name: str = "delete") -> str:
        path = self.write_manifest(documents, name)
        return self.run("delete", "-f", str(path)).stdout

    # -- instances -------------------------------------------------------------------

    def add_instance(
        self,
        service: str,
        instance: str | None = None,
        *,
        plane: str = "ops",
        cluster: str = "node-management",
        protocol: str = "http",
        app: Literal["http", "grpc"] | None = "http",
        health_check: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        edge: bool = False,
        sidecar: bool = True,
        grpc_services: tuple[str, ...] = (),
    ) -> Instance:
        """Start the instance's app on a free port and prepare its registration (not applied:
        `register` applies several at once). Without `sidecar` the registration advertises
        the app itself, as for a service that runs no Envoy: callers' sidecars reach it
        directly, and nothing enforces its inbound policies."""
        instance_id = instance or f"{service}-{len(self._of(service)) + 1:02d}"
        sid = service_id(service, instance_id)
        app_port, outbound = free_port(), free_port()
        inbound = free_port() if sidecar else app_port
        spec: dict[str, Any] = {
            "serviceId": sid,
            "serviceName": service,
            "instanceId": instance_id,
            "cluster": cluster,
            "plane": plane,
            "version": "1.0.0",
            "endpoint": {"host": "127.0.0.1", "port": inbound, "protocol": protocol},
            "healthCheck": dict(health_check or default_health_check(protocol)),
            "ttl": 3600,
        }
        if metadata:
            spec["metadata"] = dict(metadata)
        handle = Instance(
            service=service,
            instance_id=instance_id,
            service_id=sid,
            plane=plane,
            cluster=cluster,
            protocol=protocol,
            inbound_port=inbound,
            app_port=app_port,
            outbound_port=outbound,
            edge_port=free_port() if edge else None,
            registration=document("ServiceRegistration", spec),
        )
        if app == "http":
            handle.app = start_http_app(instance_id, self.logs, port=app_port)
        elif app == "grpc":
            handle.app = start_grpc_app(
                instance_id, self.logs, port=app_port, services=grpc_services
            )
        self.instances[instance_id] = handle
        return handle

    def _of(self, service: str) -> list[Instance]:
        return [i for i in self.instances.values() if i.service == service]

    def register(self, *instances: Instance) -> None:
        """Apply the registrations of `instances` (all added ones when none are named)."""
        chosen = instances or tuple(self.instances.values())
        self.apply([i.registration for i in chosen], "registrations")

    def deregister(self, *instances: Instance) -> None:
        self.delete([i.registration for i in instances], "deregistrations")

    # -- sidecars --------------------------------------------------------------------

    def bootstrap(self, instance: Instance, *, delta: bool = False) -> dict[str, Any]:
        """The sidecar bootstrap Lucid Mesh gives this instance."""
        if self.bootstrap_mode == "static":
            args = ["render", "--format", "bootstrap", "-o", "json", "--node", instance.instance_id]
            args += ["--app-port", str(instance.app_port)]
            args += ["--outbound-port", str(instance.outbound_port)]
            if instance.edge_port is not None:
                args += ["--edge-port", str(instance.edge_port)]
            args += ["-f", *map(str, self._manifests)]
        else:
            args = ["bootstrap", "--service", instance.service, "--instance", instance.instance_id]
            args += ["--inbound-port", str(instance.inbound_port)]
            args += ["--app-port", str(instance.app_port)]
            args += ["--outbound-port", str(instance.outbound_port)]
            if instance.edge_port is not None:
                args += ["--edge-port", str(instance.edge_port)]
            if delta:
                args.append("--delta")
        loaded = yaml.safe_load(self.run(*args).stdout)
        if not isinstance(loaded, dict):
            raise MeshError(f"lucid {args[0]} printed no bootstrap document")
        return loaded

    def start_sidecar(self, instance: Instance, *, delta: bool = False, wait: bool = True) -> Envoy:
        """Start the instance's Envoy with its bootstrap; by default wait until it is live."""
        config = self.bootstrap(instance, delta=delta)
        envoy = self.envoy_runner.start(
            instance.instance_id, config, self.workdir / "envoy" / instance.instance_id
        )
        instance.envoy = envoy
        if wait:
            envoy.wait_live()
        return envoy

    def start_sidecars(self, *instances: Instance, delta: bool = False) -> None:
        """Start several sidecars, then wait for all of them (they warm up in parallel)."""
        chosen = instances or tuple(i for i in self.instances.values() if i.envoy is None)
        for instance in chosen:
            self.start_sidecar(instance, delta=delta, wait=False)
        for instance in chosen:
            instance.sidecar.wait_live()


@contextmanager
def running_mesh(workdir: Path, **options: Any) -> Iterator[Mesh]:
    """A started mesh, closed (everything stopped by PID) however the block ends."""
    mesh = Mesh(workdir, **options)
    try:
        yield mesh.start()
    finally:
        mesh.close()
