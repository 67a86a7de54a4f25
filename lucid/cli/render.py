"""`lucid render`: the command line of `lucid.render` (arguments in, YAML or JSON out).

Offline like `validate`: it reads the policy YAML, builds the mesh, translates one node and
prints what that node would receive, so an operator sees what a change does before
applying it and CI can feed the bootstrap to `envoy --mode validate`. Errors are raised
as LUCID errors; `commands.main` turns them into the message and exit code 1.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import yaml

from lucid.manifests import load_paths
from lucid.render import bootstrap, check_bootstrap, config_dump, find_node, mesh_state, render_node
from lucid.translators.node import DEFAULT_OUTBOUND_PORT


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1-65535)")
    return value


def add_render_command(commands: Any) -> None:
    """Add `render` to the `lucid` subcommands."""
    p = commands.add_parser(
        "render",
        help="print the Envoy config one node would receive (offline)",
        description="Translate the YAML for one node, offline: a static Envoy bootstrap "
        "(for `envoy --mode validate`) or a config-dump-like JSON.",
    )
    p.add_argument("-f", "--filename", nargs="+", required=True, metavar="PATH")
    p.add_argument("--node", required=True, metavar="INSTANCE_ID", help="instanceId or serviceId")
    p.add_argument(
        "--format",
        choices=["bootstrap", "dump"],
        help="bootstrap (default) or dump (the default for --proxyless, which has no bootstrap)",
    )
    p.add_argument(
        "-o", "--output", choices=["yaml", "json"], help="bootstrap as yaml (default) or json"
    )
    p.add_argument("--app-port", type=_port, help="local app port (default: registered port + 1)")
    p.add_argument(
        "--edge-port", type=_port, help="edge listener port (default 10000 for api-gateway)"
    )
    p.add_argument("--outbound-port", type=_port, default=DEFAULT_OUTBOUND_PORT)
    p.add_argument("--proxyless", action="store_true", help="render for a proxyless gRPC client")
    p.set_defaults(run=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    state = mesh_state(m.model for m in load_paths(args.filename))
    node = find_node(
        state,
        args.node,
        app_port=args.app_port,
        edge_port=args.edge_port,
        outbound_port=args.outbound_port,
        proxyless=args.proxyless,
    )
    as_dump = args.format == "dump" or (args.format is None and args.proxyless)
    if not as_dump:
        check_bootstrap(node)
    resources = render_node(state, node)
    if as_dump:
        print(json.dumps(config_dump(resources), indent=2))
    elif args.output == "json":
        print(json.dumps(bootstrap(resources), indent=2))
    else:
        print(dump_yaml(bootstrap(resources)), end="")
    return 0


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, multi-line strings (certificates) as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
