"""The ad copy and every generated text with the tagged attribute spans highlighted.

Each span is marked by sentiment (colour and a symbol), its confidence (the mark's strength and
the number) and its dimension (in the text after it and on hover). The OCR segment is the lines
joined by " / ", as the model read it (span offsets point into that text).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from schemas.events import AdSentiment, AttributeSentiment
from streams.ops.render import SYMBOL

OCR_JOIN = " / "  # how the describe stage joins OCR lines into N_z (model.describe.compose)


@dataclass(frozen=True)
class SegmentText:
    """One text the model read: its heading, segment name and index, and the text (None: not recorded)."""

    title: str
    segment: str
    index: int
    text: str | None


def segments_of(result: AdSentiment, ad_copy: str | None) -> list[SegmentText]:
    texts = result.texts
    segments = [SegmentText("Ad copy", "ad_copy", 0, ad_copy), SegmentText("Caption", "caption", 0, texts.caption)]
    segments += [SegmentText(f"Face {i + 1}", "face", i, text) for i, text in enumerate(texts.faces)]
    segments.append(SegmentText("Text on the image (OCR)", "ocr", 0, OCR_JOIN.join(texts.ocr.split("\n"))))
    return segments


def span_html(attribute: AttributeSentiment, text: str) -> str:
    """One highlighted span and its label."""
    a = attribute
    words = f"{a.sentiment} {a.dimension}, confidence {a.confidence:.2f}"
    return (f'<mark class="span {a.sentiment}" data-sentiment="{a.sentiment}" data-dimension="{a.dimension}" '
            f'data-term="{escape(a.term)}" style="--c:{a.confidence:.2f}" title="{escape(words)}">{escape(text)}</mark>'
            f'<span class="why {a.sentiment}" title="{escape(words)}">{SYMBOL[a.sentiment]}\u2009{a.dimension} '
            f"{a.confidence:.2f}</span>")


def highlighted(text: str, attributes: list[AttributeSentiment]) -> tuple[str, list[AttributeSentiment]]:
    """``text`` as HTML with ``attributes`` marked; also the attributes whose offsets do not fit it."""
    parts, cursor, unplaced = [], 0, []
    for a in sorted(attributes, key=lambda a: (a.start, a.end)):
        if a.start < cursor or text[a.start:a.end] != a.term or a.end <= a.start:
            unplaced.append(a)
            continue
        parts.append(escape(text[cursor:a.start]))
        parts.append(span_html(a, text[a.start:a.end]))
        cursor = a.end
    parts.append(escape(text[cursor:]))
    return "".join(parts), unplaced


def texts_html(result: AdSentiment, ad_copy: str | None) -> str:
    """Every segment as a block; spans that cannot be placed are listed after it."""
    blocks = []
    for seg in segments_of(result, ad_copy):
        mine = [a for a in result.attributes if a.segment == seg.segment and a.segment_index == seg.index]
        if seg.text is None:
            body, unplaced = '<span class="missing">not recorded</span>', mine
        elif not seg.text:
            body, unplaced = '<span class="missing">(empty)</span>', mine
        else:
            body, unplaced = highlighted(seg.text, mine)
        extra = "".join(span_html(a, a.term) + " " for a in unplaced)
        extra_html = f'<p class="unplaced">Tagged: {extra}</p>' if extra else ""
        blocks.append(f'<div class="segment" data-segment="{seg.segment}" data-index="{seg.index}">'
                      f"<h4>{escape(seg.title)}</h4><p>{body}</p>{extra_html}</div>")
    count = len(result.attributes)
    summary = f"{count} tagged span{'s' if count != 1 else ''}" if count else "no spans tagged"
    return f'<section class="texts"><h3>Texts read ({summary})</h3>{"".join(blocks)}</section>'
