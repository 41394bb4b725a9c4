"""``encode(event) -> bytes`` and ``decode(bytes, Model)``: the only way events cross a wire."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemas.errors import ErrorCode, SchemaError
from schemas.policy import DEFAULT_POLICY, ValidationPolicy

Model = TypeVar("Model", bound=BaseModel)

# pydantic error types -> our stable codes (custom errors already use our code as their type).
_PYDANTIC_CODES: dict[str, ErrorCode] = {
    "missing": ErrorCode.MISSING_FIELD,
    "extra_forbidden": ErrorCode.UNEXPECTED_FIELD,
    "json_invalid": ErrorCode.INVALID_JSON,
    "json_type": ErrorCode.INVALID_JSON,
    "model_type": ErrorCode.NOT_AN_OBJECT,
    "model_attributes_type": ErrorCode.NOT_AN_OBJECT,
    "string_too_long": ErrorCode.TOO_LONG,
    "too_long": ErrorCode.TOO_LONG,
    "bytes_too_long": ErrorCode.TOO_LONG,
    "string_too_short": ErrorCode.TOO_SHORT,
    "too_short": ErrorCode.TOO_SHORT,
    "bytes_too_short": ErrorCode.TOO_SHORT,
    "string_pattern_mismatch": ErrorCode.PATTERN_MISMATCH,
    "literal_error": ErrorCode.INVALID_VALUE,
    "enum": ErrorCode.INVALID_VALUE,
    "greater_than": ErrorCode.OUT_OF_RANGE,
    "greater_than_equal": ErrorCode.OUT_OF_RANGE,
    "less_than": ErrorCode.OUT_OF_RANGE,
    "less_than_equal": ErrorCode.OUT_OF_RANGE,
    "finite_number": ErrorCode.OUT_OF_RANGE,
}
_OUR_CODES = {code.value: code for code in ErrorCode}


def encode(event: BaseModel) -> bytes:
    """Serialise an event to compact UTF-8 JSON (bytes base64-encoded)."""
    try:
        return event.model_dump_json(exclude_none=False).encode("utf-8")
    except (ValueError, TypeError) as exc:  # pydantic's serialisation errors subclass ValueError
        raise SchemaError(ErrorCode.INVALID_VALUE, "", f"cannot encode {type(event).__name__}: {exc}") from exc


def decode(data: bytes | str, model: type[Model], policy: ValidationPolicy = DEFAULT_POLICY) -> Model:
    """Parse and validate ``data`` as ``model``; any problem raises :class:`SchemaError`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SchemaError(ErrorCode.WRONG_TYPE, "", f"expected bytes, got {type(data).__name__}")
    if len(data) > policy.max_payload_bytes:
        raise SchemaError(ErrorCode.PAYLOAD_TOO_LARGE, "",
                          f"payload has {len(data)} bytes; the cap is {policy.max_payload_bytes}")
    try:
        return model.model_validate_json(data, context={"policy": policy})
    except ValidationError as exc:
        raise _to_schema_error(exc, bytes(data), model) from exc


def _to_schema_error(exc: ValidationError, data: bytes, model: type[BaseModel]) -> SchemaError:
    problems: list[tuple[str, ErrorCode, str]] = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        kind = error["type"]
        code = _OUR_CODES.get(kind) or _PYDANTIC_CODES.get(kind, ErrorCode.WRONG_TYPE)
        if error["loc"] and error["loc"][0] == "schema_version" and kind == "literal_error":
            code = ErrorCode.UNKNOWN_SCHEMA_VERSION
        if code is ErrorCode.INVALID_JSON and not _is_utf8(data):
            code = ErrorCode.INVALID_ENCODING
        problems.append((field, code, error["msg"]))
    # Report the most fundamental problem first: a payload-level one, then the schema version.
    problems.sort(key=lambda p: (p[0] != "", p[1] is not ErrorCode.UNKNOWN_SCHEMA_VERSION))
    field, code, message = problems[0]
    if code is ErrorCode.INVALID_ENCODING:
        message = "payload is not valid UTF-8"
    return SchemaError(code, field, f"{model.__name__}: {message}", problems)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
