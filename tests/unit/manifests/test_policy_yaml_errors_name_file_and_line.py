"""Bad policy YAML is reported with file, document, line, LUCID code and field path."""

from __future__ import annotations

import pytest

from lucid.errors import ManifestError
from lucid.manifests import load_paths

TRAFFIC = """
apiVersion: lucid.mesh/v1
kind: TrafficPolicy
spec:
  name: gw-to-chain
  source: api-gateway
  destination: blockchain-core
  rules:
    - action: allow
"""


def errors_of(paths: list[str]) -> list:
    with pytest.raises(ManifestError) as info:
        load_paths(paths)
    return info.value.errors


def test_a_syntax_error_names_the_file_and_line(write):
    path = write("bad.yaml", "apiVersion: lucid.mesh/v1\nkind: [TrafficPolicy\nspec: {}\n")
    [error] = errors_of([str(path)])
    assert error.file == str(path)
    assert error.line == 3
    assert error.code.value == "LUCID_ERR_1102"
    assert "YAML syntax error" in error.rule


def test_an_unknown_kind_is_an_error_at_its_line(write):
    path = write("k.yaml", TRAFFIC.replace("kind: TrafficPolicy", "kind: TraficPolicy"))
    [error] = errors_of([str(path)])
    assert (error.path, error.value, error.line) == ("kind", "TraficPolicy", 2)
    assert error.code.value == "LUCID_ERR_1102"


def test_a_wrong_type_points_at_the_field(write):
    path = write("t.yaml", TRAFFIC + "  priority: high\n")
    [error] = errors_of([str(path)])
    assert (error.path, error.value, error.line) == ("spec.priority", "high", 9)
    assert error.code.value == "LUCID_ERR_1201"


def test_an_out_of_range_value_points_at_the_field(write):
    text = TRAFFIC.replace("  rules:", "  priority: 1001\n  rules:")
    path = write("r.yaml", text)
    [error] = errors_of([str(path)])
    assert (error.path, error.value, error.line) == ("spec.priority", 1001, 7)


def test_an_error_deep_in_a_rule_points_at_its_line(write):
    text = """
    apiVersion: lucid.mesh/v1
    kind: TrafficPolicy
    spec:
      name: split
      source: api-gateway
      destination: blockchain-core
      rules:
        - action: weighted-split
          parameters:
            destinations:
              - destination: blockchain-core
                weight: 80
              - destination: blockchain-canary
                wieght: 20
    """
    path = write("deep.yaml", text)
    errors = errors_of([str(path)])
    typo = next(e for e in errors if e.path.endswith("wieght"))
    assert typo.path == "spec.rules.0.parameters.destinations.1.wieght"
    assert typo.line == 14
    assert typo.rule == "is not a known field"


def test_a_duplicate_name_across_files_names_both_places(write):
    first = write("a/one.yaml", TRAFFIC)
    write("b/two.yaml", TRAFFIC)
    [error] = errors_of([str(first.parent.parent)])
    assert error.file.endswith("two.yaml")
    assert "one.yaml:1" in error.rule
    assert error.path == "spec.name"


def test_a_duplicate_key_is_an_error_not_the_last_value_wins(write):
    path = write("dup.yaml", TRAFFIC + "  priority: 5\n  priority: 6\n")
    [error] = errors_of([str(path)])
    assert (error.path, error.line, error.rule) == ("spec.priority", 10, "duplicate key")


def test_every_bad_document_of_every_file_is_reported(write):
    write("x/one.yaml", TRAFFIC.replace("gw-to-chain", "Bad_Name") + "---\n" + "kind: Nope\n")
    write("x/two.yaml", "spec: [\n")
    errors = errors_of([str(write("x/ok.yaml", TRAFFIC).parent)])
    assert [(e.file.rsplit("/", 1)[-1], e.document) for e in errors] == [
        ("one.yaml", 1),
        ("one.yaml", 2),
        ("two.yaml", 1),
    ]


def test_a_wrong_api_version_is_refused(write):
    path = write("v.yaml", TRAFFIC.replace("lucid.mesh/v1", "lucid.mesh/v2"))
    [error] = errors_of([str(path)])
    assert (error.path, error.value) == ("apiVersion", "lucid.mesh/v2")


def test_unknown_top_level_fields_are_refused(write):
    path = write("u.yaml", TRAFFIC + "extra: 1\n")
    [error] = errors_of([str(path)])
    assert (error.path, error.line) == ("extra", 9)


def test_a_document_that_is_not_a_mapping_is_refused(write):
    path = write("l.yaml", "- just\n- a list\n")
    [error] = errors_of([str(path)])
    assert error.line == 1
    assert "mapping" in error.rule


def test_a_missing_path_is_an_error(tmp_path):
    [error] = errors_of([str(tmp_path / "nothing-here.yaml")])
    assert "no such file" in error.rule


def test_metadata_name_must_match_the_spec(write):
    text = TRAFFIC.replace("spec:", "metadata: {name: other}\nspec:")
    [error] = errors_of([str(write("m.yaml", text))])
    assert (error.path, error.value) == ("metadata.name", "other")
