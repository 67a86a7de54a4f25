"""Only YAML's safe subset is read; aliases, merge keys and oversized input are refused."""

from __future__ import annotations

import pytest

from lucid import manifests
from lucid.errors import ManifestError
from lucid.manifests import load_paths, load_text


def test_python_object_tags_are_refused():
    text = "apiVersion: lucid.mesh/v1\nkind: !!python/object/apply:os.system ['true']\n"
    with pytest.raises(ManifestError) as info:
        load_text(text, file="evil.yaml")
    assert "YAML syntax error" in info.value.errors[0].rule


def test_aliases_are_refused_so_input_cannot_explode():
    text = "a: &x [1, 2]\nb: *x\n"
    with pytest.raises(ManifestError) as info:
        load_text(text, file="alias.yaml")
    assert "aliases" in info.value.errors[0].rule


def test_merge_keys_are_refused():
    text = "base: &b {x: 1}\nother:\n  <<: {y: 2}\n"
    with pytest.raises(ManifestError) as info:
        load_text(text, file="merge.yaml")
    assert "merge keys" in info.value.errors[0].rule


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(manifests, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * 200 + "\n")
    with pytest.raises(ManifestError) as info:
        load_paths([str(path)])
    assert "larger than 100 bytes" in info.value.errors[0].rule


def test_a_document_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(manifests, "MAX_DOCUMENT_BYTES", 50)
    text = "apiVersion: lucid.mesh/v1\nkind: TrafficPolicy\nspec: {name: " + "a" * 60 + "}\n"
    with pytest.raises(ManifestError) as info:
        load_text(text, file="doc.yaml")
    assert "larger than 50 bytes" in info.value.errors[0].rule


def test_empty_documents_are_skipped():
    assert load_text("---\n---\n", file="empty.yaml") == []
