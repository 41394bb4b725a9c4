"""Gold character spans -> gold BIO x sentiment tag ids on a tokenized view (tokenizer offsets).

A token belongs to a span when its character range (within its own string: the ad copy or the
composed context N_z) overlaps the span. The first such token gets ``B-<sentiment>``, the others
``I-<sentiment>``; everything else (specials, padding, untagged words) is ``O``. Spans on a
generated text (caption, face, OCR) are placed only when the context holds that segment with the
very text the span was annotated on; otherwise they cannot be tagged and are counted as dropped,
as are unresolved spans (labels whose text the source or the describe output does not hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from model.fusion.inputs import AD_COPY, CONTEXT, Context, TextBatch
from model.labels import OUTSIDE, TAG_TO_ID
from training.data.examples import AspectSpan, JmasaExample


@dataclass(frozen=True)
class Placed:
    """A span located in one of a view's two strings: ``sequence`` is AD_COPY or CONTEXT."""

    sequence: int
    start: int
    end: int
    sentiment: str


def place_spans(example: JmasaExample, context: Context | None) -> tuple[list[Placed], int]:
    """The example's spans in view coordinates, and how many could not be placed."""
    placed, dropped = [], 0
    for span in example.aspects:
        if span.resolved and span.segment == "ad_copy":
            placed.append(Placed(AD_COPY, span.start, span.end, span.sentiment))
            continue
        where = _segment_start(example, span, context) if span.resolved else None
        if where is None:
            dropped += 1
        else:
            placed.append(Placed(CONTEXT, where + span.start, where + span.end, span.sentiment))
    return placed, dropped


def _segment_start(example: JmasaExample, span: AspectSpan, context: Context | None) -> int | None:
    wanted = example.segment_text(span.segment)
    if context is None or wanted is None:
        return None
    for segment in context.segments:
        if segment.name == span.segment and context.text[segment.start:segment.end] == wanted:
            return segment.start
    return None


def gold_tags(text: TextBatch, spans: Sequence[Sequence[Placed]]) -> torch.Tensor:
    """``(B, T)`` gold tag ids of a view; a span whose tokens were cut off tags what is left."""
    sequence = text.sequence_ids.tolist()
    offsets = text.offsets.tolist()
    tags = torch.full(text.input_ids.shape, TAG_TO_ID[OUTSIDE], dtype=torch.long)
    for row, row_spans in enumerate(spans):
        for span in row_spans:
            first = True
            for t, (seq, (lo, hi)) in enumerate(zip(sequence[row], offsets[row])):
                if seq != span.sequence or hi <= lo or hi <= span.start or lo >= span.end:
                    continue
                tags[row, t] = TAG_TO_ID[f"{'B' if first else 'I'}-{span.sentiment}"]
                first = False
    return tags
