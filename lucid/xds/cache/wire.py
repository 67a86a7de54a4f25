"""Responses as bytes, assembled from entries' ready-made encodings.

A push to a thousand streams would otherwise build and serialize a thousand protobuf
responses holding copies of the same resources. Protobuf's wire format is a sequence of
fields, so a `DiscoveryResponse` is its scalar fields followed by each entry's
pre-encoded `resources` field: joining bytes, no per-stream serialization. The output
parses as the ordinary message (the protocol tests read it with the generated classes).
"""

from __future__ import annotations

from collections.abc import Iterable

from lucid.xds.cache.entries import Entry, length_delimited


def _string(field: int, value: str) -> bytes:
    return length_delimited(field, value.encode()) if value else b""


def sotw_response(
    *, type_url: str, version: str, nonce: str, entries: Iterable[Entry], control_plane: bytes
) -> bytes:
    """DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5,
    control_plane = 6 (an already serialized `ControlPlane`)."""
    head = _string(1, version) + _string(4, type_url) + _string(5, nonce)
    if control_plane:
        head += length_delimited(6, control_plane)
    return head + b"".join(entry.sotw_field for entry in entries)


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
