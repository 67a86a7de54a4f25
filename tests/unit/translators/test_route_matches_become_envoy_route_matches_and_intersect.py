"""Spec request matches become Envoy `RouteMatch`es, and two of them intersect exactly:
what is kept is the set of requests both accept, or nothing when no request can."""

from __future__ import annotations

import pytest

from lucid.translators.route_match import EVERYTHING, Match, match_of, merge, route_match


def test_an_exact_path_is_a_path_match():
    assert route_match(match_of("/health")).path == "/health"


def test_a_path_ending_in_star_is_a_prefix_and_star_alone_is_everything():
    assert route_match(match_of("/api/v1/*")).prefix == "/api/v1/"
    assert match_of("/*") == EVERYTHING
    assert route_match(EVERYTHING).prefix == "/"


def test_a_regex_path_is_a_safe_regex_on_the_path():
    result = route_match(match_of("regex:^/users/[0-9]+$"))
    assert result.safe_regex.regex == "^/users/[0-9]+$"


def test_method_headers_and_query_become_exact_matchers_with_lower_case_header_names():
    result = route_match(
        match_of("/pay", method="POST", headers={"X-Canary": "true"}, query={"v": "2"})
    )
    assert [(h.name, h.string_match.exact) for h in result.headers] == [
        (":method", "POST"),
        ("x-canary", "true"),
    ]
    assert [(q.name, q.string_match.exact) for q in result.query_parameters] == [("v", "2")]


def test_one_header_given_two_values_matches_nothing():
    assert match_of(headers={"X-A": "1", "x-a": "2"}) is None


def test_everything_is_neutral_in_an_intersection():
    some = match_of("/a/*", method="GET")
    assert merge(EVERYTHING, some) == some
    assert merge(some, EVERYTHING) == some


@pytest.mark.parametrize(
    ("a", "b", "kind", "path"),
    [
        ("/api/*", "/api/v1/*", "prefix", "/api/v1/"),
        ("/api/v1/*", "/api/*", "prefix", "/api/v1/"),
        ("/api/*", "/api/v1/pay", "path", "/api/v1/pay"),
        ("/api/v1/pay", "/api/*", "path", "/api/v1/pay"),
        ("/same", "/same", "path", "/same"),
    ],
)
def test_paths_intersect_to_the_narrower_one(a, b, kind, path):
    merged = merge(match_of(a), match_of(b))
    assert merged is not None
    assert (merged.kind, merged.path) == (kind, path)


@pytest.mark.parametrize(
    ("a", "b"),
    [("/api/*", "/admin/*"), ("/a", "/b"), ("/api/*", "/admin/x")],
)
def test_unrelated_paths_do_not_intersect(a, b):
    assert merge(match_of(a), match_of(b)) is None


def test_a_regex_and_a_prefix_keep_the_second_as_a_path_header_regex():
    merged = merge(match_of("regex:/v[0-9]+/.*"), match_of("/v1/*"))
    assert merged is not None
    assert (merged.kind, merged.path) == ("prefix", "/v1/")
    result = route_match(merged)
    (path_header,) = [h for h in result.headers if h.name == ":path"]
    assert path_header.string_match.safe_regex.regex == r"(?:/v[0-9]+/.*)(?:\?.*)?"


def test_two_regexes_keep_one_on_the_path_and_one_on_the_path_header():
    merged = merge(match_of("regex:/a.*"), match_of("regex:.*z"))
    assert merged == Match(kind="regex", path="/a.*", path_regexes=(r"(?:.*z)(?:\?.*)?",))


def test_different_methods_or_header_values_do_not_intersect():
    assert merge(match_of(method="GET"), match_of(method="POST")) is None
    assert merge(match_of(headers={"x": "1"}), match_of(headers={"x": "2"})) is None
    assert merge(match_of(query={"v": "1"}), match_of(query={"v": "2"})) is None


def test_headers_and_query_of_both_sides_are_kept():
    merged = merge(match_of("/a/*", headers={"x": "1"}), match_of(method="GET", query={"q": "s"}))
    assert merged == Match(
        kind="prefix", path="/a/", headers=((":method", "GET"), ("x", "1")), query=(("q", "s"),)
    )
