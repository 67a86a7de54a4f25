"""Responses as bytes, assembled from entries' ready-made encodings.

A push to a thousand streams would otherwise build and serialize a thousand protobuf
responses holding copies of the same resources. Protobuf's wire format is a sequence of
fields in any order, so a `DiscoveryResponse` is its scalar fields and each entry's
pre-encoded `resources` field: joining bytes, no per-stream serialization. Everything but
the nonce is the same for every stream sent one view, so a view keeps that prefix
(`TypeView.sotw_prefix`) and a stream only appends its nonce (`sotw_finish`). The output
parses as the ordinary message (the protocol tests read it with the generated classes).
"""

from __future__ import annotations

from collections.abc import Iterable

from lucid.xds.cache.entries import Entry, length_delimited


def _string(field: int, value: str) -> bytes:
    return length_delimited(field, value.encode()) if value else b""


def sotw_prefix(type_url: str, version: str, entries: Iterable[Entry]) -> bytes:
    """A DiscoveryResponse without its nonce and control plane: version_info = 1,
    type_url = 4, resources = 2. The same for every stream sent this set of entries."""
    return b"".join((_string(1, version), _string(4, type_url), *(e.sotw_field for e in entries)))


def control_plane_field(control_plane: bytes) -> bytes:
    """DiscoveryResponse.control_plane = 6, from an already serialized `ControlPlane`."""
    return length_delimited(6, control_plane) if control_plane else b""


def sotw_finish(prefix: bytes, nonce: str, control_plane_field: bytes) -> bytes:
    """A `sotw_prefix` made a whole response: the stream's nonce = 5 and control plane."""
    return b"".join((prefix, _string(5, nonce), control_plane_field))


def sotw_response(
    *, type_url: str, version: str, nonce: str, entries: Iterable[Entry], control_plane: bytes
) -> bytes:
    """DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5,
    control_plane = 6 (an already serialized `ControlPlane`)."""
    prefix = sotw_prefix(type_url, version, entries)
    return sotw_finish(prefix, nonce, control_plane_field(control_plane))


def delta_response(
    *,
    type_url: str,
    system_version: str,
    nonce: str,
    entries: Iterable[Entry],
    removed: Iterable[str],
    control_plane: bytes,
) -> bytes:
    """DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4,
    nonce = 5, removed_resources = 6, control_plane = 7."""
    head = _string(1, system_version) + _string(4, type_url) + _string(5, nonce)
    if control_plane:
        head += length_delimited(7, control_plane)
    gone = b"".join(length_delimited(6, name.encode()) for name in removed)
    return head + gone + b"".join(entry.delta_field for entry in entries)
