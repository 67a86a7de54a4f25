"""Who is asking: an xDS `Node` message turned into the translators' `Node`.

`lucid bootstrap` writes the node (DESIGN.md, sidecar contract): `id` is the instance,
`cluster` the service name, and `metadata` carries serviceId, plane, cluster, appPort,
inboundPort, outboundPort, edgePort and proxyless. Envoy sends metadata as a protobuf
`Struct`, where every number is a double, so a port arrives as 8080.0; a hand-written
bootstrap may also quote it. Both are accepted; anything else (a fractional port, an
unknown plane, no id) is refused with every broken rule listed, and the xDS server ends
only that stream with the message.
"""

from __future__ import annotations

from typing import Any, Final

from envoy.config.core.v3 import base_pb2
from google.protobuf.json_format import MessageToDict

from lucid.errors import ErrorCode, FieldError, ValidationFailed
from lucid.models.common import CLUSTERS, PLANES
from lucid.translators.node import DEFAULT_OUTBOUND_PORT, Node

MAX_TEXT: Final = 253
_CODE: Final = ErrorCode.SIDECAR_CONFIGURATION_FAILED
_PORTS: Final = ("appPort", "inboundPort", "outboundPort", "edgePort")


class InvalidNode(ValidationFailed):
    """The xDS node is missing or breaks the sidecar contract."""


def _text(errors: list[FieldError], path: str, value: Any, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(_CODE, path, value, "is required"))
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or not value.isprintable():
        errors.append(FieldError(_CODE, path, value, f"must be text of at most {MAX_TEXT} chars"))
        return None
    return value


def _port(errors: list[FieldError], path: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = float(value.strip())
    if number is None or not number.is_integer() or not 1 <= number <= 65535:
        errors.append(FieldError(_CODE, path, value, "must be a port number (1-65535)"))
        return None
    return int(number)


def _flag(errors: list[FieldError], path: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    errors.append(FieldError(_CODE, path, value, "must be true or false"))
    return False


def _choice(
    errors: list[FieldError], path: str, value: Any, allowed: tuple[str, ...]
) -> str | None:
    text = _text(errors, path, value, required=False)
    if text is not None and text not in allowed:
        errors.append(FieldError(_CODE, path, value, "must be one of: " + ", ".join(allowed)))
        return None
    return text


def node_from_proto(message: base_pb2.Node | None) -> Node:
    """The `Node` a proxy describes, or InvalidNode listing what is wrong."""
    if message is None or message.ByteSize() == 0:
        raise InvalidNode([FieldError(_CODE, "node", None, "the first request must carry node")])
    errors: list[FieldError] = []
    meta: dict[str, Any] = MessageToDict(message.metadata) if message.HasField("metadata") else {}
    node_id = _text(errors, "node.id", message.id, required=True)
    service = _text(errors, "node.cluster", message.cluster, required=True)
    service_id = _text(errors, "node.metadata.serviceId", meta.get("serviceId"), required=False)
    plane = _choice(errors, "node.metadata.plane", meta.get("plane"), PLANES)
    cluster = _choice(errors, "node.metadata.cluster", meta.get("cluster"), CLUSTERS)
    ports = {name: _port(errors, f"node.metadata.{name}", meta.get(name)) for name in _PORTS}
    proxyless = _flag(errors, "node.metadata.proxyless", meta.get("proxyless"))
    if errors:
        raise InvalidNode(errors, subject="xDS node")
    assert node_id is not None and service is not None
    return Node(
        id=node_id,
        service=service,
        service_id=service_id,
        plane=plane,
        cluster=cluster,
        app_port=ports["appPort"],
        inbound_port=ports["inboundPort"],
        outbound_port=ports["outboundPort"] or DEFAULT_OUTBOUND_PORT,
        edge_port=ports["edgePort"],
        proxyless=proxyless,
    )
