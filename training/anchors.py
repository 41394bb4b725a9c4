"""Labels on generated texts, re-anchored to what the describe stage actually produced.

A label on the OCR text, a face or the caption is written on a snapshot (the slogan as printed,
a face sentence, a caption). What the model reads is the describe stage's output for the image,
which may differ in case, line breaks or words. Before training or scoring, each such label is
found again in the real output:

- ``ocr``: the term, case-insensitively, as whole words, with any run of spaces or the OCR line
  separator (" / ") between its words; labels are matched in order;
- ``face``: the person word ("woman", "man", "person") of the first face's sentence;
- ``caption``: the first colour the caption names.

A label that cannot be found is kept as *unresolved*: it stays gold (a miss in the metrics) but
gets no tag in training, and it is counted. Template segments (a face sentence placed on an
image that shows no such face) replace the describe stage's output for that segment first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from model.describe.colors import HUE_NAMES
from model.describe.compose import compose
from model.describe.config import DescribeConfig
from schemas.description import Description, Face
from training.data.examples import AspectSpan, JmasaExample

PERSON_WORDS = ("woman", "man", "person")
COLOUR_WORDS = tuple(sorted({name for _, name in HUE_NAMES} | {"brown", "grey", "white", "black"}))
PERSON_PATTERN = re.compile(r"\b(?:" + "|".join(PERSON_WORDS) + r")\b")
COLOUR_PATTERN = re.compile(r"\b(?:" + "|".join(COLOUR_WORDS) + r")\b")


def anchor_counts(examples: Sequence[JmasaExample]) -> dict[str, dict[str, int]]:
    """``{segment: {"resolved": n, "unresolved": m}}`` over the generated-text labels of ``examples``."""
    counts: dict[str, Counter] = {}
    for example in examples:
        for span in example.aspects:
            if span.segment != "ad_copy":
                counts.setdefault(span.segment, Counter())["resolved" if span.resolved else "unresolved"] += 1
    return {segment: {"resolved": c["resolved"], "unresolved": c["unresolved"]} for segment, c in sorted(counts.items())}


def with_templates(description: Description, example: JmasaExample, sep: str = DescribeConfig.sep) -> Description:
    """The description with the example's template segments (a face sentence) in place of what was read."""
    if "face" not in example.template_segments:
        return description
    text = example.segment_text("face")
    face = Face(box=(0.0, 0.0, 1.0, 1.0), confidence=1.0, expression="neutral", expression_score=1.0, text=text)
    context, segments = compose(description.caption, (face,), description.ocr, sep)
    return description.model_copy(update={"faces": (face,), "visual_context": context, "segments": segments})


def _phrase(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"(?:\s+|\s*/\s*)".join(words) + r"(?!\w)", re.IGNORECASE)


def _find(segment: str, span: AspectSpan, text: str, cursor: int) -> re.Match[str] | None:
    if segment == "ocr":
        return _phrase(span.term).search(text, cursor)
    return (PERSON_PATTERN if segment == "face" else COLOUR_PATTERN).search(text)


def resolved_texts(description: Description) -> dict[str, str]:
    """The texts labels are anchored in: caption, the first face's sentence, the OCR text as joined into N_z."""
    texts: dict[str, str] = {}
    for segment in description.segments:
        if segment.name not in texts:
            texts[segment.name] = description.visual_context[segment.start:segment.end]
    return texts


def anchor(example: JmasaExample, description: Description) -> JmasaExample:
    """The example with its generated-text labels placed in ``description``'s texts (unresolved where absent)."""
    if all(span.segment == "ad_copy" for span in example.aspects):
        return example
    texts = resolved_texts(description)
    spans: list[AspectSpan] = []
    cursors: dict[str, int] = {}
    for span in example.aspects:
        text = texts.get(span.segment)
        found = None
        if span.segment != "ad_copy" and text:
            found = _find(span.segment, span, text, cursors.get(span.segment, 0))
        if span.segment == "ad_copy":
            spans.append(span)
        elif found is None:
            spans.append(replace(span, resolved=False))
        else:
            cursors[span.segment] = found.end()
            spans.append(replace(span, start=found.start(), end=found.end(), term=found.group(0)))
    generated = tuple((name, texts[name]) for name in ("caption", "face", "ocr") if name in texts)
    return replace(example, aspects=tuple(spans), generated=generated)
