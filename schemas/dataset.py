"""The project's ad data set format: JSON Lines, one :class:`AdRecord` per line.

Offsets are character offsets (Python ``str`` indices, end exclusive) into the text of the
aspect's ``segment``: the ad copy (``text``) by default, or a generated text (caption, face
descriptions, OCR) carried in ``generated`` so that every offset can be checked.

Spans on generated texts are re-anchored at training and evaluation time to what the describe
stage actually read (``training/data/anchors.py``): the snapshot is what the label was written
on, not a promise that OCR or the face model will read exactly that.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.base import AdId, CappedText, Dimension, Record, SegmentName, Sentiment

#: Generated segments an aspect may point into (everything except the ad copy itself).
GENERATED_SEGMENTS: tuple[SegmentName, ...] = ("caption", "face", "ocr")


class AspectRecord(Record):
    """One attribute span with its sentiment."""

    start: int = Field(ge=0, description="First character of the span in its segment's text")
    end: int = Field(gt=0, description="One past the last character (end exclusive)")
    term: str = Field(min_length=1, max_length=256, description="Exactly text[start:end]")
    sentiment: Sentiment
    segment: SegmentName = Field("ad_copy", description="Which text the offsets point into")
    dimension: Dimension | None = Field(None, description="Gold attribute dimension, when labelled")

    @model_validator(mode="after")
    def _ordered(self) -> "AspectRecord":
        if self.end <= self.start:
            raise PydanticCustomError("invalid_value", "span end {end} must be greater than start {start}",
                                      {"start": self.start, "end": self.end})
        return self


class GeneratedSnapshot(Record):
    """The generated texts that aspects with a non-``ad_copy`` segment were annotated on."""

    caption: str | None = Field(None, max_length=10_000, description="Caption Z")
    face: str | None = Field(None, max_length=10_000, description="Face descriptions F, joined")
    ocr: str | None = Field(None, max_length=10_000, description="OCR text P")


class AdRecord(Record):
    """One annotated ad: the ad copy, its image, its aspect spans and an overall label."""

    ad_id: AdId
    image: str | None = Field(None, min_length=1, max_length=2048,
                              description="Relative path (against an images dir) or URI of the ad image")
    text: CappedText = Field(description="The ad copy S")
    aspects: list[AspectRecord] = Field(default_factory=list, max_length=256)
    overall: Sentiment | None = Field(None, description="Overall sentiment of the ad, when labelled")
    category: str | None = Field(None, min_length=1, max_length=64, description="Product category (free text)")
    generated: GeneratedSnapshot | None = Field(
        None, description="Snapshot of the generated texts that non-ad_copy aspects point into")
    template_segments: list[Literal["face"]] = Field(
        default_factory=list, max_length=1,
        description="Generated segments whose snapshot text is placed into N_z as written, in place of what the "
                    "describe stage reads (a template face text on an image without that face)")
    tones: list[str] = Field(default_factory=list, max_length=16,
                             description="Writing tones of the ad (promotional, fear, question, ...), for analysis")

    def segment_text(self, segment: SegmentName) -> str | None:
        """The text a span of ``segment`` points into (None when the record has none)."""
        if segment == "ad_copy":
            return self.text
        return getattr(self.generated, segment) if self.generated is not None else None

    @model_validator(mode="after")
    def _spans_match_text(self) -> "AdRecord":
        for segment in self.template_segments:
            if self.segment_text(segment) is None:
                raise PydanticCustomError("missing_field", "template segment '{segment}' needs a generated.{segment} "
                                          "text", {"segment": segment})
        by_segment: dict[str, list[AspectRecord]] = {}
        for index, aspect in enumerate(self.aspects):
            source = self.segment_text(aspect.segment)
            if source is None:
                raise PydanticCustomError(
                    "missing_field", "aspects[{index}] points into segment '{segment}' but the record "
                    "has no generated.{segment} text", {"index": index, "segment": aspect.segment})
            found = source[aspect.start:aspect.end]
            if aspect.end > len(source) or found != aspect.term:
                raise PydanticCustomError(
                    "invalid_value", "aspects[{index}]: {segment}[{start}:{end}] is {found!r}, not the term {term!r}",
                    {"index": index, "segment": aspect.segment, "start": aspect.start, "end": aspect.end,
                     "found": found, "term": aspect.term})
            by_segment.setdefault(aspect.segment, []).append(aspect)
        for segment, spans in by_segment.items():
            ordered = sorted(spans, key=lambda span: (span.start, span.end))
            for left, right in zip(ordered, ordered[1:]):
                if right.start < left.end:
                    raise PydanticCustomError(
                        "invalid_value", "spans {left!r} [{ls}:{le}] and {right!r} [{rs}:{re}] overlap in '{segment}'",
                        {"left": left.term, "ls": left.start, "le": left.end, "right": right.term,
                         "rs": right.start, "re": right.end, "segment": segment})
        return self
