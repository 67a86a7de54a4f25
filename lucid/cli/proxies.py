"""`lucid proxy-status` and `lucid config-dump NODE`: what the xDS server sees.

`proxy-status` lists every connected proxy with, per resource type, whether it is in sync
(the last version sent was ACKed), waiting for an answer, or NACKed, and the NACK error.
`config-dump` prints what the control plane sent one node (secrets redacted), as JSON or
YAML. Both read `GET /v1/proxies` and `GET /v1/proxies/{node}/config`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

from lucid.cli.client import ApiClient
from lucid.cli.output import colour_enabled, table
from lucid.manifests import dump_yaml

TYPES = ("CDS", "EDS", "SDS", "LDS", "RDS")


def add_proxy_commands(commands: Any, remote: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "proxy-status", parents=[remote], help="connected proxies and their ACK/NACK state"
    )
    p.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    p.set_defaults(run=cmd_proxy_status)
    p = commands.add_parser(
        "config-dump", parents=[remote], help="what the control plane sent one proxy"
    )
    p.add_argument("node", metavar="NODE", help="the node id (the instance)")
    p.add_argument("-o", "--output", choices=["json", "yaml"], default="json")
    p.set_defaults(run=cmd_config_dump)


def _cell(state: dict[str, Any] | None) -> str:
    if state is None:
        return "-"
    version = (state.get("sentVersion") or "")[:8]
    if state.get("nack"):
        return f"NACKED {version}"
    if state.get("inSync"):
        return f"SYNCED {version}"
    if state.get("sentVersion"):
        return f"SENT {version}"
    return "REQUESTED"


def _errors(proxy: dict[str, Any]) -> str:
    found = [f"{t}: {s['nack']['error']}" for t, s in proxy["types"].items() if s.get("nack")]
    text = "; ".join(found)
    return text if len(text) <= 80 else text[:77] + "..."


def proxy_table(items: list[dict[str, Any]], *, colour: bool) -> str:
    rows = [
        [
            str(p["nodeId"]),
            str(p["service"]),
            f"{p['transport']} {p['api']}",
            str(p["connectedSince"] or ""),
            *(_cell(p["types"].get(t)) for t in TYPES),
            _errors(p),
        ]
        for p in items
    ]
    headers = ("NODE", "SERVICE", "XDS", "CONNECTED SINCE", *TYPES, "ERROR")
    return table(headers, rows, colour=colour)


def cmd_proxy_status(args: argparse.Namespace) -> int:
    with ApiClient(args.server) as api:
        data = api.get("/v1/proxies")
    items = list(data["items"])
    if args.output == "json":
        print(json.dumps(data, indent=2))
    elif args.output == "yaml":
        print(dump_yaml([data]), end="")
    elif items:
        print(proxy_table(items, colour=colour_enabled(sys.stdout)))
    else:
        print(
            f"No proxies connected to {data.get('xdsAddress', 'the xDS server')}.", file=sys.stderr
        )
    return 0


def cmd_config_dump(args: argparse.Namespace) -> int:
    with ApiClient(args.server) as api:
        data = api.get(f"/v1/proxies/{quote(args.node, safe='')}/config")
    if args.output == "yaml":
        print(dump_yaml([data]), end="")
    else:
        print(json.dumps(data, indent=2))
    return 0
