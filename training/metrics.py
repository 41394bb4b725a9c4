"""JMASA evaluation: joint span+sentiment, aspect extraction, aspect sentiment, overall sentiment.

Input, per example, the gold and the predicted spans. A span is either a tuple whose last item
is the sentiment and whose other items locate it -- ``(start, end, sentiment)`` or
``(segment, start, end, sentiment)`` -- or an object with ``start``, ``end``, ``sentiment`` (and
optionally ``segment``) attributes, such as :class:`training.data.AspectSpan`. Two spans have
the same *location* when their locating items are equal (exact boundaries; a partial overlap is
a different location). Within one example, duplicated spans count once and one location may
carry only one sentiment (else :class:`MetricsInputError`).

Definitions (micro-averaged over all examples; a ratio whose denominator is 0 is
``zero_division``, 0.0 by default):

- ``jmasa``: a prediction is correct when its location AND its sentiment equal a gold span's.
  precision = correct / predicted, recall = correct / gold, F1 = 2PR / (P + R).
- ``ate`` (aspect term extraction): the same on locations only (sentiments ignored).
- ``masc`` (multimodal aspect sentiment classification, the convention of the joint JMASA
  papers): evaluated on the gold spans whose location was predicted (correctly extracted gold
  aspects); accuracy = share whose predicted sentiment equals the gold one; macro-F1 = mean of
  per-class F1 over the sentiment classes present in the gold or predicted labels of those
  spans. ``masc.support`` is their number.
- ``overall``: over the examples that have a gold overall label; a missing prediction counts as
  wrong (a false negative of the gold class, no false positive). Accuracy and macro-F1 as above.
- ``per_dimension``: ``jmasa`` and ``ate`` computed separately on the gold and predicted spans of
  each dimension, where a span's dimension is given by a callable or an attribute name.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Span = Any  # a tuple (..., sentiment) or an object with start/end/sentiment[/segment]
DimensionOf = Callable[[Span], str] | str
Metrics = dict[str, Any]


class MetricsInputError(ValueError):
    """The spans given to a metric are malformed or contradictory."""


@dataclass(frozen=True)
class Counts:
    """True positives, predicted and gold totals of one P/R/F1 figure."""

    correct: int
    predicted: int
    gold: int

    def prf(self, zero_division: float = 0.0) -> dict[str, float]:
        precision = self.correct / self.predicted if self.predicted else zero_division
        recall = self.correct / self.gold if self.gold else zero_division
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1,
                "correct": self.correct, "predicted": self.predicted, "gold": self.gold}


def split_span(span: Span) -> tuple[Hashable, str]:
    """``(location, sentiment)`` of a tuple or attribute span."""
    if isinstance(span, tuple):
        if len(span) < 2:
            raise MetricsInputError(f"a span tuple needs a location and a sentiment, got {span!r}")
        return span[:-1], span[-1]
    try:
        location = getattr(span, "location", None)
        if location is not None:
            return location, span.sentiment
        return (getattr(span, "segment", "ad_copy"), span.start, span.end), span.sentiment
    except AttributeError as exc:
        raise MetricsInputError(f"a span needs start, end and sentiment, got {span!r}") from exc


def by_location(spans: Iterable[Span]) -> dict[Hashable, str]:
    """Location -> sentiment of one example's spans; one location may carry one sentiment only."""
    found: dict[Hashable, str] = {}
    for span in spans:
        location, sentiment = split_span(span)
        if found.setdefault(location, sentiment) != sentiment:
            raise MetricsInputError(f"location {location!r} has two sentiments: {found[location]!r}, {sentiment!r}")
    return found


def _pairs(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]):
    if len(gold) != len(predicted):
        raise MetricsInputError(f"{len(gold)} gold examples but {len(predicted)} predicted ones")
    return [(by_location(g), by_location(p)) for g, p in zip(gold, predicted)]


def _jmasa_counts(pairs) -> Counts:
    correct = sum(sum(1 for loc, s in p.items() if g.get(loc) == s) for g, p in pairs)
    return Counts(correct, sum(len(p) for _, p in pairs), sum(len(g) for g, _ in pairs))


def _ate_counts(pairs) -> Counts:
    correct = sum(len(g.keys() & p.keys()) for g, p in pairs)
    return Counts(correct, sum(len(p) for _, p in pairs), sum(len(g) for g, _ in pairs))


def classification(true: Sequence[str], pred: Sequence[str | None], zero_division: float = 0.0) -> dict[str, float]:
    """Accuracy and macro-F1; a None prediction is wrong and counts as a false negative only."""
    if len(true) != len(pred):
        raise MetricsInputError(f"{len(true)} gold labels but {len(pred)} predictions")
    labels = sorted(set(true) | {p for p in pred if p is not None})
    hits = Counter(t for t, p in zip(true, pred) if t == p)
    predicted = Counter(p for p in pred if p is not None)
    gold = Counter(true)
    f1s = [Counts(hits[label], predicted[label], gold[label]).prf(zero_division)["f1"] for label in labels]
    return {"accuracy": sum(hits.values()) / len(true) if true else zero_division,
            "macro_f1": sum(f1s) / len(f1s) if f1s else zero_division,
            "support": len(true)}


def jmasa_scores(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]],
                 zero_division: float = 0.0) -> dict[str, float]:
    """Exact location + sentiment P/R/F1 (micro)."""
    return _jmasa_counts(_pairs(gold, predicted)).prf(zero_division)


def ate_scores(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]],
               zero_division: float = 0.0) -> dict[str, float]:
    """Exact location P/R/F1 (micro), sentiments ignored."""
    return _ate_counts(_pairs(gold, predicted)).prf(zero_division)


def masc_scores(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]],
                zero_division: float = 0.0) -> dict[str, float]:
    """Sentiment accuracy / macro-F1 over the correctly extracted gold spans."""
    true, pred = [], []
    for g, p in _pairs(gold, predicted):
        for location in g.keys() & p.keys():
            true.append(g[location])
            pred.append(p[location])
    return classification(true, pred, zero_division)


def overall_scores(gold: Sequence[str | None], predicted: Sequence[str | None],
                   zero_division: float = 0.0) -> dict[str, float]:
    """Overall-sentiment accuracy / macro-F1 over the examples with a gold label."""
    if len(gold) != len(predicted):
        raise MetricsInputError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    kept = [(g, p) for g, p in zip(gold, predicted) if g is not None]
    return classification([g for g, _ in kept], [p for _, p in kept], zero_division)


def _dimension(span: Span, dimension: DimensionOf) -> str:
    name = getattr(span, dimension) if isinstance(dimension, str) else dimension(span)
    if not isinstance(name, str) or not name or "." in name:
        raise MetricsInputError(f"dimension of {span!r} must be a non-empty string without dots, got {name!r}")
    return name


def per_dimension_scores(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]],
                         dimension: DimensionOf, zero_division: float = 0.0) -> dict[str, Metrics]:
    """``{dimension: {"jmasa": {...}, "ate": {...}}}`` over the spans of each dimension."""
    gold, predicted = [list(g) for g in gold], [list(p) for p in predicted]
    names = sorted({_dimension(s, dimension) for spans in gold + predicted for s in spans})
    result = {}
    for name in names:
        g = [[s for s in spans if _dimension(s, dimension) == name] for spans in gold]
        p = [[s for s in spans if _dimension(s, dimension) == name] for spans in predicted]
        result[name] = {"jmasa": jmasa_scores(g, p, zero_division), "ate": ate_scores(g, p, zero_division)}
    return result


def evaluate(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]],
             gold_overall: Sequence[str | None] | None = None,
             predicted_overall: Sequence[str | None] | None = None,
             dimension: DimensionOf | None = None, zero_division: float = 0.0) -> Metrics:
    """Every metric as one nested dict: ``jmasa``, ``ate``, ``masc``, ``overall`` (when labels
    are given) and ``per_dimension`` (empty unless ``dimension`` is given)."""
    gold, predicted = [list(g) for g in gold], [list(p) for p in predicted]
    metrics: Metrics = {
        "examples": len(gold),
        "jmasa": jmasa_scores(gold, predicted, zero_division),
        "ate": ate_scores(gold, predicted, zero_division),
        "masc": masc_scores(gold, predicted, zero_division),
    }
    if gold_overall is not None:
        if predicted_overall is None:
            raise MetricsInputError("gold overall labels given without predictions")
        metrics["overall"] = overall_scores(gold_overall, predicted_overall, zero_division)
    metrics["per_dimension"] = (per_dimension_scores(gold, predicted, dimension, zero_division)
                                if dimension is not None else {})
    return metrics


def flatten(metrics: Metrics, prefix: str = "") -> dict[str, float]:
    """Nested metrics -> ``{"jmasa.f1": ..., "per_dimension.color.jmasa.f1": ...}``."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def resolve(metrics: Metrics, dotted: str) -> Any:
    """The value at a dotted key of nested metrics (``KeyError`` naming the key when absent)."""
    value: Any = metrics
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"no metric {dotted!r} (stopped at {part!r})")
        value = value[part]
    return value


#: Keys every written report holds (dotted paths into the nested JSON).
REPORT_KEYS = ("jmasa.precision", "jmasa.recall", "jmasa.f1", "ate.precision", "ate.recall", "ate.f1",
               "masc.accuracy", "masc.macro_f1", "overall.accuracy", "overall.macro_f1", "per_dimension")
_TABLE_ROWS = (("JMASA", "jmasa", ("precision", "recall", "f1")), ("ATE", "ate", ("precision", "recall", "f1")),
               ("MASC", "masc", ("accuracy", "macro_f1")), ("Overall", "overall", ("accuracy", "macro_f1")))


def format_table(metrics: Metrics) -> str:
    """A plain-text table of the headline figures (percent) and of each dimension's JMASA/ATE F1."""
    lines = [f"{'task':<12}{'metric':<11}{'value':>8}"]
    for title, key, names in _TABLE_ROWS:
        for name in names:
            value = metrics.get(key, {}).get(name)
            shown = f"{100 * value:7.2f}%" if isinstance(value, (int, float)) else "      - "
            lines.append(f"{title:<12}{name:<11}{shown:>8}")
            title = ""
    for heading, key in (("dimension", "per_dimension"), ("segment", "per_segment")):
        groups = metrics.get(key) or {}
        if groups:
            lines.append(f"{heading:<14}{'JMASA P':>9}{'R':>8}{'F1':>8}{'ATE F1':>9}{'gold':>6}")
            for name, scores in groups.items():
                j = scores["jmasa"]
                lines.append(f"{name:<14}{100 * j['precision']:8.2f}%{100 * j['recall']:7.2f}%{100 * j['f1']:7.2f}%"
                             f"{100 * scores['ate']['f1']:8.2f}%{j['gold']:>6}")
    calibration = metrics.get("calibration") or {}
    if calibration.get("attribute_ece") is not None:
        overall = calibration.get("overall_ece")
        lines.append(f"calibration (ECE, 10 bins): attributes {calibration['attribute_ece']:.3f}"
                     + (f", overall {overall:.3f}" if overall is not None else ""))
    rule = metrics.get("dimension_rule") or {}
    if rule.get("accuracy") is not None:
        lines.append(f"dimension rule accuracy {100 * rule['accuracy']:.2f}% on {rule['support']} gold spans")
    return "\n".join(lines)


def report_document(metrics: Metrics, meta: dict[str, Any] | None = None) -> Metrics:
    """The JSON document of a report: the nested metrics (every key of :data:`REPORT_KEYS`
    resolves with :func:`resolve`; ``overall`` is None-valued when no labels existed) plus ``meta``."""
    document = {key: value for key, value in metrics.items()}
    document.setdefault("overall", {"accuracy": None, "macro_f1": None, "support": 0})
    document.setdefault("per_dimension", {})
    if meta:
        document["meta"] = meta
    for key in REPORT_KEYS:
        resolve(document, key)
    return document


def write_report(metrics: Metrics, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """Write the report JSON (nested; see :func:`report_document`) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_document(metrics, meta), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
