"""Human-readable one-line summaries of outcomes, for `adsent tail` and the demo."""

from __future__ import annotations

from streams.client import Outcome

SYMBOL = {"positive": "+", "neutral": "=", "negative": "-"}


def outcome_line(outcome: Outcome, max_attributes: int = 4) -> str:
    if outcome.dead_letter is not None:
        letter = outcome.dead_letter
        return f"{outcome.ad_id:<28} DEAD LETTER [{letter.stage}/{letter.code}] {letter.message[:80]}"
    result = outcome.result
    assert result is not None
    pairs = ", ".join(f"{SYMBOL[a.sentiment]}{a.term!r}@{a.segment}({a.dimension}) {a.confidence:.2f}"
                      for a in result.attributes[:max_attributes]) or "(no attributes)"
    more = f" +{len(result.attributes) - max_attributes} more" if len(result.attributes) > max_attributes else ""
    overall = f"{result.overall.label} {result.overall.scores[result.overall.label]:.2f}"
    return f"{result.ad_id:<28} {overall:<14} {pairs}{more}  [{result.end_to_end_seconds:.2f} s]"
