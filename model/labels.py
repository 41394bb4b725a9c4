"""Label maps of the heads: BIO x sentiment tags (Eq. 4), overall sentiment, attribute dimensions."""

from __future__ import annotations

import re

from schemas.base import SENTIMENTS, Dimension, SegmentName, Sentiment

OUTSIDE = "O"
# O, then B-/I- for every sentiment: the CRF's 7 tags.
TAGS: tuple[str, ...] = (OUTSIDE,) + tuple(f"{bio}-{s}" for s in SENTIMENTS for bio in ("B", "I"))
TAG_TO_ID: dict[str, int] = {tag: i for i, tag in enumerate(TAGS)}
OVERALL_LABELS: tuple[Sentiment, ...] = SENTIMENTS

# Head words (the last word of a term) that make it a colour or a scene attribute. The rule was
# measured against the gold dimensions of the ad corpus (``adsent evaluate`` reports its accuracy).
COLOR_WORDS = frozenset(
    "red orange yellow green blue purple violet pink brown black white grey gray gold golden silver beige "
    "cyan magenta teal navy turquoise maroon ivory colour color colours colors palette hue hues shade shades "
    "coral lilac lavender mint olive khaki burgundy charcoal".split())
SCENE_WORDS = frozenset(
    "scene background outdoors indoors landscape sky beach beaches sea ocean city street streets room rooms kitchen "
    "office studio park forest mountain mountains night sunset sunrise snow garden gardens store shop restaurant "
    "space nature atmosphere setting surroundings view views lighting venue stage stages salon showroom forecourt "
    "lounge lobby terrace balcony courtyard harbour pier boardwalk hall museum neighbourhood neighborhood "
    "location area lake river coast island pool square campus arena stadium".split())
_WORD = re.compile(r"[a-z]+")


def tag_parts(tag: str) -> tuple[str, Sentiment | None]:
    """('B' | 'I' | 'O', sentiment or None) of a tag such as 'B-positive'."""
    if tag == OUTSIDE:
        return OUTSIDE, None
    bio, sentiment = tag.split("-", 1)
    return bio, sentiment  # type: ignore[return-value]


def dimension_of(term: str, segment: SegmentName) -> Dimension:
    """The attribute dimension of a span: face and OCR spans by source, others by their head word."""
    if segment == "face":
        return "face"
    if segment == "ocr":
        return "text"
    words = _WORD.findall(term.lower())
    if not words:
        return "object"
    if words[-1] in COLOR_WORDS:
        return "color"
    if words[-1] in SCENE_WORDS:
        return "scene"
    return "object"
