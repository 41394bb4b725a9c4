"""Label maps of the heads: BIO x sentiment tags (Eq. 4), overall sentiment, attribute dimensions."""

from __future__ import annotations

import re

from schemas.base import SENTIMENTS, Dimension, SegmentName, Sentiment

OUTSIDE = "O"
# O, then B-/I- for every sentiment: the CRF's 7 tags.
TAGS: tuple[str, ...] = (OUTSIDE,) + tuple(f"{bio}-{s}" for s in SENTIMENTS for bio in ("B", "I"))
TAG_TO_ID: dict[str, int] = {tag: i for i, tag in enumerate(TAGS)}
OVERALL_LABELS: tuple[Sentiment, ...] = SENTIMENTS

# Words that make a term a colour or a scene attribute (lowercase, whole words).
COLOR_WORDS = frozenset(
    "red orange yellow green blue purple violet pink brown black white grey gray gold golden silver beige "
    "cyan magenta teal navy turquoise maroon ivory cream colorful colourful colour color colors colours "
    "bright dark pastel vivid warm cool neon tone tones hue palette".split())
SCENE_WORDS = frozenset(
    "scene background outdoor outdoors indoor indoors landscape sky beach sea ocean city street room kitchen "
    "office studio park forest mountain mountains night sunset sunrise snow garden store shop restaurant "
    "space nature atmosphere setting view lighting light".split())
_WORD = re.compile(r"[a-z]+")


def tag_parts(tag: str) -> tuple[str, Sentiment | None]:
    """('B' | 'I' | 'O', sentiment or None) of a tag such as 'B-positive'."""
    if tag == OUTSIDE:
        return OUTSIDE, None
    bio, sentiment = tag.split("-", 1)
    return bio, sentiment  # type: ignore[return-value]


def dimension_of(term: str, segment: SegmentName) -> Dimension:
    """The attribute dimension of a span: face and OCR spans by source, others by their words."""
    if segment == "face":
        return "face"
    if segment == "ocr":
        return "text"
    words = set(_WORD.findall(term.lower()))
    if words & COLOR_WORDS:
        return "color"
    if words & SCENE_WORDS:
        return "scene"
    return "object"
