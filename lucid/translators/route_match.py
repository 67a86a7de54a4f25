"""Request matches of routes and rules: one value type, its intersection, its `RouteMatch`.

Routes, traffic rules and sidecar policy conditions all say which requests they apply to
with the same fields (path, method, headers, query). The outbound routes need more than
translating one of them: a sidecar route to `blockchain-core` must still honour the
canary split a traffic rule declares for `/api/v1/blocks/*`, so the route table holds the
*intersection* of both matches. `Match` is that value; `merge` intersects two of them, or
answers None when no request can satisfy both.

| spec                    | `Match` / Envoy `RouteMatch`                                  |
|-------------------------|---------------------------------------------------------------|
| path `/exact`           | `path` (exact)                                                |
| path `/prefix/*`        | `prefix` `/prefix/` (`/*` is every path)                      |
| path `regex:<RE2>`      | `safe_regex` on the path (query string excluded)              |
| method                  | header matcher on `:method`                                   |
| headers {name: value}   | exact header matchers, names lower-cased                      |
| query {name: value}     | exact query parameter matchers                                |

Two paths intersect when one prefix extends the other, or an exact path lies under a
prefix. A regular expression cannot be intersected symbolically, so the second path of an
intersection that involves one is kept as a regular expression on the `:path` header (the
path plus an optional query string). Two different exact paths, two unrelated prefixes, two
methods or two values of one header cannot intersect.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.type.matcher.v3 import regex_pb2, string_pb2

PathKind = Literal["prefix", "path", "regex"]
Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Match:
    """What a request must look like; the default matches every request."""

    kind: PathKind = "prefix"
    path: str = "/"
    # Further constraints on the whole `:path` header (path and query), as RE2.
    path_regexes: tuple[str, ...] = ()
    headers: Pairs = ()
    query: Pairs = ()


EVERYTHING = Match()


def _pairs(*sources: Mapping[str, str] | None, lower: bool) -> Pairs | None:
    """Sorted (name, value) pairs from several mappings; None when a name gets two values."""
    merged: dict[str, str] = {}
    for source in sources:
        for name, value in (source or {}).items():
            key = name.lower() if lower else name
            if merged.setdefault(key, value) != value:
                return None
    return tuple(sorted(merged.items()))


def _path(path: str | None) -> tuple[PathKind, str]:
    if path is None:
        return "prefix", "/"
    if path.startswith("regex:"):
        return "regex", path[len("regex:") :]
    if path.endswith("*"):
        return "prefix", path[:-1]
    return "path", path


def match_of(
    path: str | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> Match | None:
    """The `Match` of spec match fields; None when they contradict each other."""
    kind, value = _path(path)
    merged_headers = _pairs(headers, {":method": method} if method else None, lower=True)
    merged_query = _pairs(query, lower=False)
    if merged_headers is None or merged_query is None:
        return None
    return Match(kind=kind, path=value, headers=merged_headers, query=merged_query)


def _as_path_regex(kind: PathKind, path: str) -> str:
    """An RE2 for the `:path` header (path, then maybe `?query`) that `kind`/`path` match."""
    if kind == "regex":
        body = f"(?:{path})"
    elif kind == "prefix":
        body = re.escape(path) + "[^?]*"
    else:
        body = re.escape(path)
    return body + r"(?:\?.*)?"


def _merge_paths(a: Match, b: Match) -> tuple[PathKind, str, tuple[str, ...]] | None:
    if a.kind == "regex" or b.kind == "regex":
        keep, other = (b, a) if a.kind == "regex" and b.kind != "regex" else (a, b)
        if other.kind == "prefix" and other.path == "/":
            return keep.kind, keep.path, ()
        return keep.kind, keep.path, (_as_path_regex(other.kind, other.path),)
    if a.kind == "prefix" and b.kind == "prefix":
        if a.path.startswith(b.path):
            return "prefix", a.path, ()
        if b.path.startswith(a.path):
            return "prefix", b.path, ()
        return None
    if a.kind == "path" and b.kind == "path":
        return ("path", a.path, ()) if a.path == b.path else None
    exact, prefix = (a, b) if a.kind == "path" else (b, a)
    return ("path", exact.path, ()) if exact.path.startswith(prefix.path) else None


def merge(a: Match, b: Match) -> Match | None:
    """The match of requests that satisfy both `a` and `b`, or None if none can."""
    if a == EVERYTHING:
        return b
    if b == EVERYTHING:
        return a
    paths = _merge_paths(a, b)
    headers = _pairs(dict(a.headers), dict(b.headers), lower=False)
    query = _pairs(dict(a.query), dict(b.query), lower=False)
    if paths is None or headers is None or query is None:
        return None
    kind, path, extra = paths
    regexes = tuple(dict.fromkeys((*a.path_regexes, *b.path_regexes, *extra)))
    return Match(kind=kind, path=path, path_regexes=regexes, headers=headers, query=query)


@functools.lru_cache(maxsize=1024)
def names_regex(names: frozenset[str]) -> str:
    """A RE2 pattern matching exactly one of `names` (sorted, escaped). Cached: a selector
    such as `plane:ops` names hundreds of services, in the rules of many destinations."""
    return "|".join(re.escape(name) for name in sorted(names))


def _exact(value: str) -> string_pb2.StringMatcher:
    return string_pb2.StringMatcher(exact=value)


def _regex(pattern: str) -> regex_pb2.RegexMatcher:
    return regex_pb2.RegexMatcher(regex=pattern)


def route_match(match: Match, into: rc.RouteMatch | None = None) -> rc.RouteMatch:
    """The Envoy `RouteMatch` of a `Match`, written into `into` when given (a route's own
    `match`: filling it in place costs a third of building one and copying it)."""
    result = rc.RouteMatch() if into is None else into
    if match.kind == "prefix":
        result.prefix = match.path
    elif match.kind == "path":
        result.path = match.path
    else:
        result.safe_regex.regex = match.path
    for pattern in match.path_regexes:
        header = result.headers.add(name=":path")
        header.string_match.safe_regex.regex = pattern
    for name, value in match.headers:
        result.headers.add(name=name).string_match.exact = value
    for name, value in match.query:
        result.query_parameters.add(name=name).string_match.exact = value
    return result
