"""Policy YAML: multi-document files in Kubernetes style, read with file:line in every error.

    apiVersion: lucid.mesh/v1
    kind: TrafficPolicy
    metadata: {name: ...}      # optional; what `lucid get -o yaml` prints, ignored on input
    spec: {...}                # the spec model, validated by lucid.models
    status: {...}              # output only, ignored on input

Only YAML's safe subset is read (the SafeLoader's constructors), aliases are refused so a
small file cannot expand into a huge one, duplicate keys are errors instead of silently
keeping the last, and files and documents over a size limit are refused. Every problem in
every file is collected before anything is reported, so an operator fixes them in one pass.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from lucid.errors import ErrorCode, FieldError, ManifestError, ValidationFailed
from lucid.kinds import KINDS, Kind, lookup
from lucid.store import Record

API_VERSION = "lucid.mesh/v1"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
SUFFIXES = (".yaml", ".yml")
_GENERIC = ErrorCode.POLICY_VALIDATION_FAILED
_TOP_LEVEL = {"apiVersion", "kind", "metadata", "spec", "status"}


@dataclass(frozen=True)
class Manifest:
    kind: Kind
    model: BaseModel
    file: str
    document: int  # 1-based position in its file
    line: int | None
    # Dotted path ("spec.routing.retry") -> line, to point warnings at the right place.
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, spec_path: str) -> int | None:
        """The line of a field under spec (or of its nearest ancestor in the file)."""
        return _line_of(dict(self.lines), f"spec.{spec_path}" if spec_path else "spec", self.line)

    @property
    def name(self) -> str:
        return self.kind.key_of(self.model)


def load_paths(paths: Sequence[str]) -> list[Manifest]:
    """Read files and directories (recursively, *.yaml / *.yml); `-` is standard input."""
    manifests: list[Manifest] = []
    errors: list[FieldError] = []
    for file in _expand(paths, errors):
        try:
            text = _read(file)
        except _Refused as exc:
            errors.append(exc.error)
            continue
        try:
            manifests.extend(load_text(text, file=file))
        except ManifestError as exc:
            errors.extend(exc.errors)
    errors.extend(_duplicates(manifests))
    if errors:
        raise ManifestError(errors, subject="policy YAML")
    return manifests


def load_text(text: str, *, file: str = "<stdin>") -> list[Manifest]:
    manifests: list[Manifest] = []
    errors: list[FieldError] = []
    loader = yaml.SafeLoader(text)
    document = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            document += 1
            if node is None:
                continue
            try:
                lines = _lines(node, file, document)
                size = node.end_mark.index - node.start_mark.index
                if size > MAX_DOCUMENT_BYTES:
                    raise _Refused(
                        _error(
                            file,
                            document,
                            node.start_mark.line + 1,
                            "",
                            size,
                            f"document is larger than {MAX_DOCUMENT_BYTES} bytes",
                        )
                    )
                data = loader.construct_document(node)
            except _Refused as exc:
                errors.append(exc.error)
                continue
            if data is None:
                continue
            try:
                manifests.append(parse_document(data, file=file, document=document, lines=lines))
            except ManifestError as exc:
                errors.extend(exc.errors)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(_error(file, document + 1, line, "", None, f"YAML syntax error: {problem}"))
    finally:
        loader.dispose()
    errors.sort(key=lambda e: (e.document or 0, e.line or 0))
    errors.extend(_duplicates(manifests))
    if errors:
        raise ManifestError(errors, subject=file)
    return manifests


def parse_document(
    data: Any, *, file: str, document: int, lines: dict[str, int] | None = None
) -> Manifest:
    """Validate one manifest (already parsed from YAML or JSON)."""
    lines = lines or {}
    top = lines.get("", None)

    def fail(path: str, value: Any, rule: str, code: ErrorCode = _GENERIC) -> ManifestError:
        line = _line_of(lines, path, top)
        return ManifestError(
            [FieldError(code, path, value, rule, file=file, document=document, line=line)]
        )

    if not isinstance(data, dict):
        raise fail("", data, "a document must be a mapping with apiVersion, kind and spec")
    for key in data:
        if key not in _TOP_LEVEL:
            raise fail(str(key), data[key], "is not a known field; expected apiVersion, kind, spec")
    if data.get("apiVersion") != API_VERSION:
        raise fail("apiVersion", data.get("apiVersion"), f"apiVersion must be {API_VERSION!r}")
    kind_name = data.get("kind")
    kind = lookup(kind_name) if isinstance(kind_name, str) else None
    if kind is None or kind_name != kind.name:
        expected = ", ".join(k.name for k in KINDS)
        raise fail("kind", kind_name, f"unknown kind; expected one of {expected}")
    if "spec" not in data:
        raise fail("spec", None, "spec is required", kind.invalid_code)
    try:
        model = kind.parse(data["spec"], subject=f"{file} document {document}")
    except ValidationFailed as exc:
        raise ManifestError(
            [
                FieldError(
                    e.code,
                    f"spec.{e.path}" if e.path else "spec",
                    e.value,
                    e.rule,
                    file=file,
                    document=document,
                    line=_line_of(lines, f"spec.{e.path}", top),
                )
                for e in exc.errors
            ],
            subject=file,
        ) from exc
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and "name" in metadata and metadata["name"] != kind.key_of(model):
        raise fail(
            "metadata.name",
            metadata["name"],
            f"metadata.name must equal spec.{kind.key_field} ({kind.key_of(model)!r})",
            kind.invalid_code,
        )
    return Manifest(kind, model, file, document, top, lines)


def parse_documents(documents: Sequence[Any], *, file: str = "<request>") -> list[Manifest]:
    """Validate a batch of manifests from JSON; every error is collected."""
    manifests: list[Manifest] = []
    errors: list[FieldError] = []
    for index, data in enumerate(documents, start=1):
        try:
            manifests.append(parse_document(data, file=file, document=index))
        except ManifestError as exc:
            errors.extend(exc.errors)
    errors.extend(_duplicates(manifests))
    if errors:
        raise ManifestError(errors, subject=file)
    return manifests


def to_manifest(kind: Kind, record: Record) -> dict[str, Any]:
    """A stored document as a manifest: re-appliable, with the control plane's fields
    under `status`."""
    spec = {k: v for k, v in record.document.items() if k not in kind.owned_fields}
    status = {k: v for k, v in record.document.items() if k in kind.owned_fields}
    out: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": kind.name,
        "metadata": {"name": record.key, "revision": record.revision},
        "spec": spec,
    }
    if status:
        out["status"] = status
    return out


class _Dumper(yaml.SafeDumper):
    """Writes repeated values out in full: the loader refuses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(documents: Iterable[dict[str, Any]]) -> str:
    return yaml.dump_all(list(documents), Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Refused(Exception):
    def __init__(self, error: FieldError) -> None:
        super().__init__(error.rule)
        self.error = error


def _error(
    file: str, document: int | None, line: int | None, path: str, value: Any, rule: str
) -> FieldError:
    return FieldError(_GENERIC, path, value, rule, file=file, document=document, line=line)


def _expand(paths: Sequence[str], errors: list[FieldError]) -> list[str]:
    files: list[str] = []
    for raw in paths:
        if raw == "-":
            files.append("-")
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                errors.append(_error(raw, None, None, "", None, "directory holds no YAML files"))
            files.extend(str(p) for p in found)
        elif path.is_file():
            files.append(raw)
        else:
            errors.append(_error(raw, None, None, "", None, "no such file or directory"))
    return files


def _read(file: str) -> str:
    if file == "-":
        text = sys.stdin.read(MAX_FILE_BYTES + 1)
    else:
        size = Path(file).stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Refused(
                _error(file, None, None, "", size, f"file is larger than {MAX_FILE_BYTES} bytes")
            )
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _Refused(_error(file, None, None, "", None, f"cannot read: {exc}")) from exc
    if len(text) > MAX_FILE_BYTES:
        raise _Refused(
            _error(file, None, None, "", None, f"input is larger than {MAX_FILE_BYTES} bytes")
        )
    return text


def _lines(node: yaml.Node, file: str, document: int) -> dict[str, int]:
    """Dotted path -> 1-based line, for every key and list item; refuses aliases and
    duplicate keys."""
    lines: dict[str, int] = {"": node.start_mark.line + 1}
    seen: set[int] = set()

    def walk(current: yaml.Node, path: str) -> None:
        if id(current) in seen:
            raise _Refused(
                _error(
                    file,
                    document,
                    current.start_mark.line + 1,
                    path,
                    None,
                    "YAML aliases are not supported",
                )
            )
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in current.value:
                key = key_node.value
                child = f"{path}.{key}" if path else str(key)
                if key in keys:
                    raise _Refused(
                        _error(
                            file,
                            document,
                            key_node.start_mark.line + 1,
                            child,
                            key,
                            "duplicate key",
                        )
                    )
                if key == "<<":
                    raise _Refused(
                        _error(
                            file,
                            document,
                            key_node.start_mark.line + 1,
                            child,
                            key,
                            "YAML merge keys are not supported",
                        )
                    )
                keys.add(key)
                lines[child] = key_node.start_mark.line + 1
                walk(value_node, child)
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                child = f"{path}.{index}" if path else str(index)
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    walk(node, "")
    return lines


def _line_of(lines: dict[str, int], path: str, default: int | None) -> int | None:
    """The line of `path`, or of its nearest ancestor that exists in the file."""
    parts = path.split(".") if path else []
    while parts:
        line = lines.get(".".join(parts))
        if line is not None:
            return line
        parts.pop()
    return default


def _duplicates(manifests: Sequence[Manifest]) -> list[FieldError]:
    errors: list[FieldError] = []
    first: dict[tuple[str, str], Manifest] = {}
    for manifest in manifests:
        key = (manifest.kind.collection, manifest.name)
        earlier = first.get(key)
        if earlier is None:
            first[key] = manifest
            continue
        errors.append(
            FieldError(
                manifest.kind.conflict_code,
                f"spec.{manifest.kind.key_field}",
                manifest.name,
                f"duplicate name: {earlier.kind.name} {manifest.name!r} is also defined at "
                f"{earlier.file}:{earlier.line} (document {earlier.document})",
                file=manifest.file,
                document=manifest.document,
                line=manifest.line,
            )
        )
    return errors
