"""The in-memory example every loader produces: text, aspect spans (character offsets), image."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from schemas.base import Dimension, SegmentName, Sentiment


@dataclass(frozen=True)
class AspectSpan:
    """An aspect term ``text[start:end]`` (end exclusive) of ``segment`` with its sentiment."""

    start: int
    end: int
    term: str
    sentiment: Sentiment
    segment: SegmentName = "ad_copy"
    dimension: Dimension | None = None  # gold dimension, when labelled
    resolved: bool = True  # False: a generated-text label the describe stage's output does not hold

    @property
    def location(self) -> tuple:
        """Where the span sits, as the metrics compare it; an unresolved label matches no prediction."""
        if not self.resolved:
            return (self.segment, "unresolved", self.start, self.end)
        return (self.segment, self.start, self.end)

    @property
    def key(self) -> tuple:
        """``(*location, sentiment)``: what the metrics compare."""
        return (*self.location, self.sentiment)


@dataclass(frozen=True)
class JmasaExample:
    """One JMASA sequence: the ad copy (or tweet), all its aspect spans, an optional image.

    ``generated`` holds ``(segment, text)`` pairs for spans that point into generated texts
    (caption, face, OCR); ``template_segments`` names those whose text replaces the describe
    stage's output in N_z (template face texts); ``image_path`` is None when no image is available.
    """

    example_id: str
    text: str
    aspects: tuple[AspectSpan, ...]
    overall: Sentiment | None = None
    image_path: Path | None = None
    image_ref: str | None = None
    category: str | None = None
    generated: tuple[tuple[SegmentName, str], ...] = field(default=())
    template_segments: tuple[SegmentName, ...] = ()  # generated texts placed into N_z as written
    tones: tuple[str, ...] = ()

    def segment_text(self, segment: SegmentName) -> str | None:
        if segment == "ad_copy":
            return self.text
        return dict(self.generated).get(segment)
