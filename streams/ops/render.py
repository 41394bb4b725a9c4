"""Human-readable one-line summaries of outcomes, for `adsent tail` and the demo."""

from __future__ import annotations

from streams.ops.client import Outcome

SYMBOL = {"positive": "+", "neutral": "=", "negative": "-"}


def outcome_line(outcome: Outcome, max_attributes: int = 4) -> str:
    """One line per outcome: the overall label, up to ``max_attributes`` ad-copy and image-side attributes."""
    if outcome.dead_letter is not None:
        letter = outcome.dead_letter
        return f"{outcome.ad_id:<28} DEAD LETTER [{letter.stage}/{letter.code}] {letter.message[:80]}"
    result = outcome.result
    assert result is not None
    # the ad copy's first attributes, then every image-side one (OCR, face, caption), which are few
    shown = ([a for a in result.attributes if a.segment == "ad_copy"][:max_attributes]
             + [a for a in result.attributes if a.segment != "ad_copy"][:max_attributes])
    pairs = ", ".join(f"{SYMBOL[a.sentiment]}{a.term!r}@{a.segment}({a.dimension}) {a.confidence:.2f}"
                      for a in shown) or "(no attributes)"
    more = f" +{len(result.attributes) - len(shown)} more" if len(result.attributes) > len(shown) else ""
    overall = f"{result.overall.label} {result.overall.scores[result.overall.label]:.2f}"
    return f"{result.ad_id:<28} {overall:<14} {pairs}{more}  [{result.end_to_end_seconds:.2f} s]"
