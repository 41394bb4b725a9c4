"""The dimension rule: segment first, then the term's head word."""

from __future__ import annotations

import pytest

from model.labels import dimension_of


@pytest.mark.parametrize(("term", "segment", "expected"), [
    ("sage green", "ad_copy", "color"),
    ("night cream", "ad_copy", "object"),  # "cream" is a product here, not a colour
    ("red shoes", "ad_copy", "object"),
    ("rooftop terrace", "ad_copy", "scene"),
    ("white", "caption", "color"),
    ("pizza", "ocr", "text"),
    ("woman", "face", "face"),
    ("", "ad_copy", "object"),
])
def test_dimension_of(term: str, segment: str, expected: str) -> None:
    assert dimension_of(term, segment) == expected  # type: ignore[arg-type]
