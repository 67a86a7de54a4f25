"""How the model tests parse a document and check the one error they expect back.

Kinds are parsed the way every entry point parses them (`Kind.parse`, with the kind's
LUCID codes); the models that are not kinds through `validate` with one constant code.
Codes are compared as the spec writes them (`LUCID_ERR_1004`), so a table reads like the
spec's Error Codes section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from lucid.errors import ErrorCode, FieldError, ValidationFailed
from lucid.kinds import BY_NAME
from lucid.models import (
    HealthStatus,
    InterServiceMessage,
    MessageStatus,
    ServiceEvent,
    ServiceIdentifier,
)
from lucid.models.validation import constant, validate

Parse = Callable[[Any], BaseModel]


def _parser(model: type[BaseModel], code: ErrorCode) -> Parse:
    def parse(data: Any) -> BaseModel:
        return validate(model, data, code_for=constant(code))

    return parse


parse_registration: Parse = BY_NAME["ServiceRegistration"].parse
parse_sidecar: Parse = BY_NAME["SidecarConfiguration"].parse
parse_traffic_policy: Parse = BY_NAME["TrafficPolicy"].parse
parse_security_policy: Parse = BY_NAME["SecurityPolicy"].parse
parse_subscription: Parse = BY_NAME["EventSubscription"].parse
parse_identifier = _parser(ServiceIdentifier, ErrorCode.INVALID_SERVICE_CONFIGURATION)
parse_health_status = _parser(HealthStatus, ErrorCode.INVALID_SERVICE_CONFIGURATION)
parse_message = _parser(InterServiceMessage, ErrorCode.MESSAGE_DELIVERY_FAILED)
parse_message_status = _parser(MessageStatus, ErrorCode.MESSAGE_DELIVERY_FAILED)
parse_event = _parser(ServiceEvent, ErrorCode.MESSAGE_DELIVERY_FAILED)


def errors_of(parse: Parse, document: Any) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as info:
        parse(document)
    return info.value.errors


def rejected(parse: Parse, document: Any, *, code: str, path: str, value: Any) -> FieldError:
    """Assert that `document` breaks exactly one rule, at `path`, with `code`, for `value`.

    Returns the error, so a test can look at its rule too.
    """
    errors = errors_of(parse, document)
    found = [(error.code.value, error.path) for error in errors]
    assert found == [(code, path)], "\n".join(error.describe() for error in errors)
    [error] = errors
    assert error.value == value, f"reported value {error.value!r}, expected {value!r}"
    assert type(error.value) is type(value), f"reported value {error.value!r} changed type"
    return error
