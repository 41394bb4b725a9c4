"""Error codes are plain stable text wherever they end up (metric labels, dead letters)."""

from __future__ import annotations

import re
from enum import Enum

import pytest

from schemas.errors import CODE_MAX_LENGTH, CODE_PATTERN, UNNAMED_CODE, ErrorCode, stable_code


class SomeCode(str, Enum):
    BAD_INPUT = "bad_input"


@pytest.mark.parametrize("code, expected", [
    (SomeCode.BAD_INPUT, "bad_input"),  # str() of a str-Enum would be 'SomeCode.BAD_INPUT'
    (ErrorCode.TOO_LONG, "too_long"),
    ("image_corrupt", "image_corrupt"),
    ("ECONNRESET", "econnreset"),
    ("Weird code/ü!", "weird_code"),
    ("a-b.c", "a_b_c"),
    ("", UNNAMED_CODE),
    ("üñ", UNNAMED_CODE),
    (404, "404"),
    ("x" * 100, "x" * CODE_MAX_LENGTH),
])
def test_stable_code(code: object, expected: str) -> None:
    assert stable_code(code) == expected
    assert re.fullmatch(CODE_PATTERN, expected) and len(expected) <= CODE_MAX_LENGTH
