"""Colour only on a terminal with NO_COLOR unset; tables sort rows and pad columns."""

from __future__ import annotations

import io

import pytest

from lucid.cli.output import colour_enabled, kind_table, paint
from tests.builders import manifest, traffic_policy


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_no_colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)

    assert colour_enabled(io.StringIO()) is False


@pytest.mark.parametrize(("no_color", "expected"), [(None, True), ("1", False)])
def test_a_terminal_gets_colour_unless_no_color_is_set(monkeypatch, no_color, expected):
    monkeypatch.delenv("TERM", raising=False)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)

    assert colour_enabled(Terminal()) is expected


def test_paint_adds_escapes_only_when_enabled():
    assert paint("created", "green", False) == "created"
    assert paint("created", "green", True) == "\033[32mcreated\033[0m"


def test_a_policy_table_lists_rule_actions_sorted_by_name():
    rules = [{"action": a} for a in ("allow", "deny", "allow", "deny", "allow")]
    manifests = [
        manifest("TrafficPolicy", traffic_policy(name="zeta", rules=rules)),
        manifest("TrafficPolicy", traffic_policy(name="alpha", enabled=False)),
    ]

    lines = kind_table("TrafficPolicy", manifests, colour=False).splitlines()

    assert [line.split() for line in lines] == [
        ["NAME", "SOURCE", "DESTINATION", "RULES", "PRIORITY", "ENABLED"],
        ["alpha", "api-gateway", "blockchain-core", "allow", "-", "false"],
        ["zeta", "api-gateway", "blockchain-core", "allow,deny,allow,+2", "-", "-"],
    ]
