"""The `lucid` commands and their exit codes.

    0  done
    1  Lucid Mesh said no: invalid YAML, a validation error, a conflict, a missing resource
    2  the command line itself is wrong (argparse's own code)
    3  no Lucid Mesh answered at the server URL
  130  interrupted

`validate` and `render` work offline; `apply`, `get` and `delete` talk to the REST API of
`lucid serve`.
`apply` and `delete -f` read the YAML here first, so a mistake is reported with its file and
line before anything is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lucid.cli.bootstrap import add_bootstrap_command, split_address
from lucid.cli.client import DEFAULT_SERVER, ApiClient, ApiError, Unreachable
from lucid.cli.output import (
    ACTION_STYLES,
    colour_enabled,
    describe_error,
    kind_table,
    paint,
)
from lucid.cli.proxies import add_proxy_commands
from lucid.cli.render import add_render_command
from lucid.errors import LucidError, ManifestError
from lucid.kinds import KINDS, Kind, lookup
from lucid.manifests import Manifest, dump_yaml, load_paths
from lucid.models import SecurityPolicy, ServiceRegistration, SidecarConfiguration, TrafficPolicy
from lucid.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    TOKEN_ENV,
    ServeConfig,
    ServeError,
    configure_logging,
    serve,
    token_path,
)
from lucid.store import data_dir, default_store_url
from lucid.translators.notes import notes
from lucid.translators.review import mesh_notes
from lucid.translators.state import build_state
from lucid.xds.server.options import DEFAULT_XDS_HOST, DEFAULT_XDS_PORT

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class Failed(Exception):
    """A message for stderr and exit code 1, raised by a command."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
        return result
    except ManifestError as exc:
        _error(f"{len(exc.errors)} error(s) in the YAML; nothing was sent")
        for error in exc.errors:
            print(f"  {error.describe()}", file=sys.stderr)
    except ApiError as exc:
        _api_error(exc)
    except Unreachable as exc:
        _error(
            f"cannot reach Lucid Mesh at {exc.server} ({exc.reason}): "
            f"is `lucid serve` running at {exc.server}?"
        )
        return EXIT_UNREACHABLE
    except (Failed, ServeError) as exc:
        _error(str(exc))
    except LucidError as exc:
        _error(str(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lucid", description="Lucid Mesh control plane")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument(
        "--server",
        default=os.environ.get("LUCID_SERVER", DEFAULT_SERVER),
        help="REST API URL (env LUCID_SERVER; default %(default)s)",
    )
    remote.add_argument(
        "--token",
        help=f"API token for writes (env {TOKEN_ENV}; default: "
        "the api-token file in the data directory)",
    )
    kinds = ", ".join(k.plural for k in KINDS)

    p = commands.add_parser("serve", help="run the control plane")
    p.add_argument(
        "--store",
        default=os.environ.get("LUCID_STORE"),
        help="store URL (env LUCID_STORE; default: a SQLite file in the data dir)",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="API address (default %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port (default %(default)s)")
    p.add_argument(
        "--data-dir",
        help="where the store and api-token live "
        "(env LUCID_DATA_DIR; default ~/.local/share/lucid)",
    )
    p.add_argument(
        "--xds-address",
        default=os.environ.get("LUCID_XDS_ADDRESS", f"{DEFAULT_XDS_HOST}:{DEFAULT_XDS_PORT}"),
        help="xDS gRPC HOST:PORT (env LUCID_XDS_ADDRESS; default %(default)s; plaintext: "
        "expose beyond loopback knowingly)",
    )
    p.add_argument("--xds-port", type=int, help="xDS port, overriding --xds-address's (0: any)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("validate", help="check YAML files offline")
    p.add_argument("-f", "--filename", nargs="+", required=True, metavar="PATH")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("apply", parents=[remote], help="create or update from YAML")
    p.add_argument("-f", "--filename", nargs="+", required=True, metavar="PATH")
    p.set_defaults(run=cmd_apply)

    p = commands.add_parser("get", parents=[remote], help=f"list or show resources ({kinds})")
    p.add_argument("kind", metavar="KIND")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("-o", "--output", choices=["table", "yaml", "json"], default="table")
    p.add_argument(
        "-w",
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="filter a list on an indexed field, e.g. plane=ops (repeatable)",
    )
    p.set_defaults(run=cmd_get)

    p = commands.add_parser("delete", parents=[remote], help="delete by YAML or by name")
    p.add_argument("-f", "--filename", nargs="+", metavar="PATH")
    p.add_argument("kind", nargs="?", metavar="KIND")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.set_defaults(run=cmd_delete, parser=p)

    add_render_command(commands)
    add_proxy_commands(commands, remote)
    add_bootstrap_command(commands, remote)
    return parser


# -- commands -----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    directory = Path(args.data_dir).expanduser().absolute() if args.data_dir else data_dir()
    store = args.store or (
        default_store_url()
        if args.data_dir is None
        else f"sqlite://{(directory / 'lucid.db').as_posix()}"
    )
    configure_logging(getattr(logging, args.log_level.upper()))
    try:
        xds_host, xds_port = split_address(args.xds_address)
    except ValueError as exc:
        raise Failed(str(exc)) from exc
    xds_port = xds_port if args.xds_port is None else args.xds_port
    config = ServeConfig(
        store_url=store,
        data_dir=directory,
        host=args.host,
        port=args.port,
        xds_host=xds_host,
        xds_port=xds_port,
    )
    from lucid.api.app import create_app  # only `serve` needs FastAPI's app

    asyncio.run(
        serve(
            config,
            api=lambda resources, token, **extra: create_app(resources, token=token, **extra),
        )
    )
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        manifests = load_paths(args.filename)
    except ManifestError as exc:
        for error in exc.errors:
            print(error.describe())
        files = len({e.file for e in exc.errors})
        print(f"{len(exc.errors)} error(s) in {files} file(s)", file=sys.stderr)
        return EXIT_FAILED
    by_file: dict[str, list[Manifest]] = {}
    for manifest in manifests:
        by_file.setdefault(manifest.file, []).append(manifest)
    for file, found in by_file.items():
        counts = Counter(m.kind.name for m in found)
        what = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        print(f"{file}: valid ({len(found)} document(s): {what})")
    _print_notes(manifests)
    if not manifests:
        print("no documents found", file=sys.stderr)
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    manifests = load_paths(args.filename)
    if not manifests:
        print("nothing to apply", file=sys.stderr)
        return EXIT_OK
    _print_notes(manifests)
    documents = [
        {"apiVersion": "lucid.mesh/v1", "kind": m.kind.name, "spec": m.kind.dump(m.model)}
        for m in manifests
    ]
    with _client(args) as api:
        try:
            result = api.write("POST", "/v1/apply", {"documents": documents})
        except ApiError as exc:
            _locate(exc, manifests)
            raise
    _print_actions(result)
    return EXIT_OK


def cmd_get(args: argparse.Namespace) -> int:
    kind = _kind(args.kind)
    params = dict(_where(item) for item in args.where)
    path = f"/v1/{kind.plural}" + (f"/{quote(args.name, safe='')}" if args.name else "")
    with _client(args) as api:
        data = api.get(path, params=params or None)
    manifests: list[dict[str, Any]] = [data] if args.name else list(data["items"])
    if args.output == "json":
        print(json.dumps(data, indent=2))
    elif args.output == "yaml":
        if manifests:
            print(dump_yaml(manifests), end="")
    elif manifests:
        print(kind_table(kind.name, manifests, colour=colour_enabled(sys.stdout)))
    else:
        print(f"No {kind.plural} found.", file=sys.stderr)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    if args.filename and args.kind:
        args.parser.error("give either -f PATH... or KIND NAME..., not both")
    if args.filename:
        items = [{"kind": m.kind.name, "name": m.name} for m in load_paths(args.filename)]
    elif args.kind and args.names:
        kind = _kind(args.kind)
        items = [{"kind": kind.name, "name": name} for name in args.names]
    else:
        args.parser.error("give -f PATH... or KIND NAME...")
    if not items:
        print("nothing to delete", file=sys.stderr)
        return EXIT_OK
    with _client(args) as api:
        _print_actions(api.write("POST", "/v1/delete", {"items": items}))
    return EXIT_OK


# -- helpers ------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> ApiClient:
    return ApiClient(args.server, token=args.token or _default_token())


def _default_token() -> str | None:
    from_env = os.environ.get(TOKEN_ENV, "").strip()
    if from_env:
        return from_env
    try:
        return token_path(data_dir()).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _kind(name: str) -> Kind:
    kind = lookup(name)
    if kind is None:
        raise Failed(
            f"unknown kind {name!r}; expected one of: " + ", ".join(k.plural for k in KINDS)
        )
    return kind


def _where(item: str) -> tuple[str, str]:
    field, sep, value = item.partition("=")
    if not sep or not field:
        raise Failed(f"--where takes FIELD=VALUE, not {item!r}")
    return field, value


def _print_notes(manifests: Sequence[Manifest]) -> None:
    """Warn, on stderr, about fields Envoy cannot honour exactly (`lucid.translators.notes`)."""
    for manifest in manifests:
        for note in notes(manifest.model):
            line = manifest.line_of(note.path)
            where = f"{manifest.file}:{line}" if line is not None else manifest.file
            print(
                f"warning: {where}: {manifest.kind.name} {manifest.name}: spec.{note}",
                file=sys.stderr,
            )
    models = [m.model for m in manifests]
    state = build_state(
        [m for m in models if isinstance(m, ServiceRegistration)],
        [m for m in models if isinstance(m, SidecarConfiguration)],
        [m for m in models if isinstance(m, TrafficPolicy)],
        [m for m in models if isinstance(m, SecurityPolicy)],
    )
    for service, note in mesh_notes(state):
        print(f"warning: service {service}: {note}", file=sys.stderr)


def _print_actions(result: dict[str, Any]) -> None:
    colour = colour_enabled(sys.stdout)
    for item in result.get("items", []):
        action = str(item["action"])
        styled = paint(action, ACTION_STYLES[action], colour) if action in ACTION_STYLES else action
        print(f"{str(item['kind']).lower()}/{item['name']} {styled}")


def _locate(exc: ApiError, manifests: Sequence[Manifest]) -> None:
    """Point errors the server found in document N of the request back at the local file."""
    for error in exc.details.get("errors", []):
        index = error.get("document") if isinstance(error, dict) else None
        if (
            error.get("file") == "<request>"
            and isinstance(index, int)
            and 1 <= index <= len(manifests)
        ):
            source = manifests[index - 1]
            error.update(file=source.file, document=source.document, line=source.line)


def _error(message: str) -> None:
    print(f"{paint('Error', 'red', colour_enabled(sys.stderr))} {message}", file=sys.stderr)


def _api_error(exc: ApiError) -> None:
    _error(f"{exc.code}: {exc.message}")
    for key, value in exc.details.items():
        if key == "errors" and isinstance(value, list):
            for error in value:
                print(
                    f"  {describe_error(error) if isinstance(error, dict) else error}",
                    file=sys.stderr,
                )
        elif key not in ("kind", "name"):
            print(f"  {key}: {value}", file=sys.stderr)
    if exc.status == 401:
        print(
            f"  writes need the API token: pass --token, set {TOKEN_ENV}, or make "
            f"{token_path(data_dir())} readable",
            file=sys.stderr,
        )
