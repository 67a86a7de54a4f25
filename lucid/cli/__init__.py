"""`lucid`, the command line: parses, calls, prints. The console script is `lucid.cli:main`.

A package rather than one module so each part stays small: `commands` (arguments, the
commands, exit codes), `client` (the REST API over httpx) and `output` (tables, YAML,
colour, error lines). Exit codes are decided here and nowhere else in Lucid Mesh.
"""

from lucid.cli.commands import main

__all__ = ["main"]
