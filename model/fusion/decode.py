"""CRF tags -> attribute-sentiment pairs traced back to their segment (ad copy, caption, face, OCR)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from model.fusion.inputs import AD_COPY, CONTEXT, Context, TextBatch
from model.labels import TAG_TO_ID, TAGS, dimension_of, tag_parts
from schemas.base import SENTIMENTS, Sentiment
from schemas.events import AttributeSentiment

_PARTS = [tag_parts(tag) for tag in TAGS]
_BEGIN = [TAG_TO_ID[f"B-{s}"] for s in SENTIMENTS]
_INSIDE = [TAG_TO_ID[f"I-{s}"] for s in SENTIMENTS]


@dataclass(frozen=True)
class Span:
    """A tagged span: which string (ad copy or N_z), character offsets in it, sentiment, confidence."""

    sequence: int
    start: int
    end: int
    sentiment: Sentiment
    confidence: float


def tag_spans(tags: torch.Tensor, marginals: torch.Tensor, text: TextBatch,
              span_sentiment: str = "tags") -> list[list[Span]]:
    """Spans of every ad: B-x I-x* runs inside one sequence, widened to whole words (a word's
    continuation pieces follow its first piece); confidence = mean marginal of the span's tags.

    ``span_sentiment`` "vote" re-decides each span's sentiment as the one with the most marginal
    mass (B-x on its first token, I-x on the rest) over the span, and scores that instead.
    """
    tags_np = tags.cpu().numpy()
    # (B, T): marginal probability of each decoded tag, gathered in one batched op
    chosen = marginals.gather(2, tags.unsqueeze(2)).squeeze(2).float().cpu().numpy()
    mass = _sentiment_mass(marginals) if span_sentiment == "vote" else None
    seq_np = text.sequence_ids.cpu().numpy()
    word_np = text.word_ids.cpu().numpy()
    off_np = text.offsets.cpu().numpy()
    steps = tags_np.shape[1]
    result: list[list[Span]] = []
    for row in range(tags_np.shape[0]):
        spans: list[Span] = []
        begin = None
        for t in range(steps + 1):
            bio = _PARTS[tags_np[row, t]][0] if t < steps else "O"
            inside = t < steps and seq_np[row, t] in (AD_COPY, CONTEXT)
            piece = inside and t > 0 and word_np[row, t] == word_np[row, t - 1] and seq_np[row, t] == seq_np[row, t - 1]
            same = begin is not None and inside and seq_np[row, t] == seq_np[row, begin]
            if begin is not None and not (same and (piece or bio == "I")):
                spans.append(_span(begin, t, row, seq_np, off_np, chosen, _PARTS[tags_np[row, begin]][1])
                             if mass is None else _voted_span(begin, t, row, seq_np, off_np, mass))
                begin = None
            if begin is None and bio == "B" and inside and not piece:
                begin = t
        result.append(spans)
    return result


def _span(begin: int, end: int, row: int, seq: np.ndarray, offsets: np.ndarray, chosen: np.ndarray,
          sentiment: Sentiment | None) -> Span:
    return Span(sequence=int(seq[row, begin]), start=int(offsets[row, begin, 0]), end=int(offsets[row, end - 1, 1]),
                sentiment=sentiment or "neutral", confidence=float(chosen[row, begin:end].mean()))


def _sentiment_mass(marginals: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``(begin, inside)`` ``(B, T, 3)`` arrays: p(B-x) and p(I-x) of each token, x over SENTIMENTS."""
    probs = marginals.float().cpu()
    return probs[:, :, _BEGIN].numpy(), probs[:, :, _INSIDE].numpy()


def _voted_span(begin: int, end: int, row: int, seq: np.ndarray, offsets: np.ndarray,
                mass: tuple[np.ndarray, np.ndarray]) -> Span:
    """A span whose sentiment has the most mass over its tokens; confidence, that mass's mean."""
    first, inside = mass
    per_token = np.concatenate([first[row, begin:begin + 1], inside[row, begin + 1:end]])  # (n, 3)
    scores = per_token.mean(0)
    best = int(scores.argmax())
    return Span(sequence=int(seq[row, begin]), start=int(offsets[row, begin, 0]), end=int(offsets[row, end - 1, 1]),
                sentiment=SENTIMENTS[best], confidence=float(scores[best]))


def to_attributes(spans: list[Span], ad_copy: str, context: Context) -> list[AttributeSentiment]:
    """Spans with offsets in their own segment's text; spans on a separator are left out."""
    attributes: list[AttributeSentiment] = []
    for span in spans:
        if span.sequence == AD_COPY:
            term, segment, index, start, end = ad_copy[span.start:span.end], "ad_copy", 0, span.start, span.end
        else:
            seg = next((s for s in context.segments if s.start <= span.start < s.end), None)
            if seg is None:
                continue
            stop = min(span.end, seg.end)
            term = context.text[span.start:stop]
            segment, index, start, end = seg.name, seg.index, span.start - seg.start, stop - seg.start
        if not term.strip():
            continue
        attributes.append(AttributeSentiment(
            term=term, segment=segment, dimension=dimension_of(term, segment), start=start, end=end,
            segment_index=index, sentiment=span.sentiment, confidence=min(1.0, max(0.0, span.confidence))))
    return attributes
