"""The one typed error raised at the event boundary, with stable error codes."""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    """Stable, documented codes. Dashboards and dead letters key on these: never rename one."""

    INVALID_JSON = "invalid_json"
    INVALID_ENCODING = "invalid_encoding"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    UNEXPECTED_FIELD = "unexpected_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    OUT_OF_RANGE = "out_of_range"
    PATTERN_MISMATCH = "pattern_mismatch"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_MISSING = "image_missing"
    URI_NOT_ALLOWED = "uri_not_allowed"
    UNKNOWN_SCHEMA_VERSION = "unknown_schema_version"
    PAYLOAD_TOO_LARGE = "payload_too_large"


class SchemaError(ValueError):
    """An event failed to encode or decode.

    ``field`` is the dotted path of the first offending field ("" for the whole payload),
    ``code`` a stable :class:`ErrorCode`; ``errors`` lists every problem found as
    ``(field, code, message)``.
    """

    def __init__(
        self,
        code: ErrorCode,
        field: str,
        message: str,
        errors: list[tuple[str, ErrorCode, str]] | None = None,
    ) -> None:
        self.code = code
        self.field = field
        self.message = message
        self.errors = errors or [(field, code, message)]
        where = f" at '{field}'" if field else ""
        super().__init__(f"[{code.value}]{where}: {message}")
