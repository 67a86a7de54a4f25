"""Small protobuf pieces every translator uses: packing into `Any`, and the ADS config
source that every EDS, RDS and SDS reference names.

They live below the translators that need them (`clusters`, `hcm`, `mtls`), so none of
those imports another just to pack a message.
"""

from __future__ import annotations

import functools

from envoy.config.core.v3 import config_source_pb2
from google.protobuf import any_pb2
from google.protobuf.message import Message

_TYPE_PREFIX = "type.googleapis.com/"


def pack(message: Message) -> any_pb2.Any:
    """`Any` with deterministic inner bytes (map fields sorted), so versions are stable.
    (What `Any.Pack` does, without its Python-level steps: it runs for every filter.)"""
    return any_pb2.Any(
        type_url=_TYPE_PREFIX + message.DESCRIPTOR.full_name,
        value=message.SerializeToString(deterministic=True),
    )


@functools.cache
def ads_config_source() -> config_source_pb2.ConfigSource:
    """Fetch over the node's ADS stream (built once; callers copy it)."""
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(), resource_api_version=config_source_pb2.V3
    )
