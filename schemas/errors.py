"""The one typed error raised at the event boundary, with stable error codes."""

from __future__ import annotations

import re
from enum import Enum

#: What every error code looks like (metric labels, ``DeadLetter.code``, ``deadletters replay --code``).
CODE_PATTERN = r"^[a-z0-9_]+$"
CODE_MAX_LENGTH = 64
#: The code of an error whose own code has no letter or digit to keep.
UNNAMED_CODE = "unnamed_error"


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
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"


def stable_code(code: object) -> str:
    """``code`` as the plain text dashboards and dead letters key on.

    An Enum gives its value (``str()`` of a str-Enum is ``'ModelErrorCode.BAD_INPUT'``); any other
    text is lower-cased, each run of characters outside ``[a-z0-9_]`` becomes ``_`` and the result
    is cut to :data:`CODE_MAX_LENGTH`, so it always matches :data:`CODE_PATTERN`.
    """
    text = str(code.value if isinstance(code, Enum) else code)
    if len(text) <= CODE_MAX_LENGTH and re.fullmatch(CODE_PATTERN, text):
        return text
    cleaned = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:CODE_MAX_LENGTH].rstrip("_")
    return cleaned or UNNAMED_CODE


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
