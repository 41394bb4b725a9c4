"""Run a network over prepared examples and score its spans with :mod:`training.metrics`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from tqdm import tqdm

from model.config import ModelConfig
from model.fusion.calibration import Temperatures
from model.fusion.decode import tag_spans, to_attributes
from model.fusion.inputs import Context, TextBatch, ViewTokenizer
from model.fusion.network import FusionNetwork
from model.labels import OVERALL_LABELS, dimension_of
from model.precision import autocast
from schemas.events import AttributeSentiment
from training.anchors import anchor_counts
from training.batches import Prepared, collate
from training.metrics import Metrics, ate_scores, evaluate, jmasa_scores, masc_scores, per_dimension_scores

EMPTY_CONTEXT = Context("", ())


def span_dimension(span: Any) -> str:
    """The dimension of a predicted attribute (its own) or a gold span (from its term and segment)."""
    dimension = getattr(span, "dimension", None)
    return dimension if dimension is not None else dimension_of(span.term, span.segment)


@dataclass
class ViewOutput:
    """One view's forward pass over some rows of a batch: what decoding needs, no hidden states."""

    rows: list[int]  # indices into the prepared examples
    text: TextBatch
    contexts: list[Context]
    emissions: torch.Tensor
    tag_mask: torch.Tensor
    tags: torch.Tensor  # the Viterbi (or repaired argmax) tags; temperatures never change them
    overall_logits: torch.Tensor


@torch.inference_mode()
def forward_prepared(network: FusionNetwork, views: ViewTokenizer, config: ModelConfig, prepared: Sequence[Prepared],
                     batch_size: int, text_only: bool, device: torch.device,
                     progress: bool = False) -> list[ViewOutput]:
    """The network over every example, S+N view where it has an image, else S; decoded tags kept."""
    was_training = network.training
    network.eval()
    outputs: list[ViewOutput] = []
    for first in tqdm(range(0, len(prepared), batch_size), desc="evaluate", unit="batch", disable=not progress,
                      leave=False):
        batch = collate(prepared[first:first + batch_size], views, config, text_only).to(device)
        views_run = [(batch.text, None, list(range(len(batch))))]
        if batch.fused is not None:
            fused_rows = batch.fused_rows.tolist()
            views_run = [(batch.text.to(device), None, [i for i in range(len(batch)) if i not in set(fused_rows)]),
                         (batch.fused, batch.visual, fused_rows)]
        for text, visual, rows in views_run:
            if not rows:
                continue
            if visual is None and len(rows) < len(batch):
                text = _select(text, rows)
            with autocast(device):
                out = network(text, visual, marginals=False)
            contexts = [batch.contexts[row] if visual is not None else EMPTY_CONTEXT for row in rows]
            outputs.append(ViewOutput([first + row for row in rows], text, contexts, out.emissions, out.tag_mask,
                                      network.decode(out), out.overall_logits))
    network.train(was_training)
    return outputs


@torch.inference_mode()
def decode_outputs(network: FusionNetwork, config: ModelConfig, prepared: Sequence[Prepared],
                   outputs: Sequence[ViewOutput], temperatures: Temperatures | None = None,
                   ) -> tuple[list[list[AttributeSentiment]], list[str], list[float]]:
    """Attributes, overall label and its probability of every example, confidences at ``temperatures``
    (default: the network's fitted ones); cheap, so a temperature sweep re-decodes one forward pass."""
    temperatures = temperatures or network.temperatures
    spans_out: list[list[AttributeSentiment]] = [[] for _ in prepared]
    overall_out: list[str] = [""] * len(prepared)
    confidence_out: list[float] = [0.0] * len(prepared)
    for view in outputs:
        marginals = network.tagger.marginals(view.emissions, view.tag_mask, temperatures.attribute)
        spans = tag_spans(view.tags, marginals, view.text, config.fusion.span_sentiment)
        best, labels = torch.softmax(view.overall_logits / temperatures.overall, dim=1).max(1)
        for position, (index, context) in enumerate(zip(view.rows, view.contexts)):
            spans_out[index] = to_attributes(spans[position], prepared[index].example.text, context)
            overall_out[index] = OVERALL_LABELS[int(labels[position])]
            confidence_out[index] = float(best[position])
    return spans_out, overall_out, confidence_out


def predict_prepared(network: FusionNetwork, views: ViewTokenizer, config: ModelConfig, prepared: Sequence[Prepared],
                     batch_size: int, text_only: bool, device: torch.device,
                     progress: bool = False) -> tuple[list[list[AttributeSentiment]], list[str], list[float]]:
    """Attributes, overall label and the overall label's probability of every example: S+N view
    where it has an image, else S (the network's fitted temperatures applied to confidences)."""
    outputs = forward_prepared(network, views, config, prepared, batch_size, text_only, device, progress)
    return decode_outputs(network, config, prepared, outputs)


def _select(text: TextBatch, rows: list[int]) -> TextBatch:
    """The given rows of a view, cut to their longest real length."""
    index = torch.tensor(rows, device=text.input_ids.device)
    picked = TextBatch(**{f.name: getattr(text, f.name)[index] for f in fields(text)})
    steps = int(picked.attention_mask.sum(1).max())
    return TextBatch(**{f.name: getattr(picked, f.name)[:, :steps] for f in fields(picked)})


def score(prepared: Sequence[Prepared], spans: Sequence[Sequence[Any]], overall: Sequence[str],
          overall_confidence: Sequence[float] | None = None) -> Metrics:
    """JMASA, ATE, MASC, overall (when gold labels exist), per-dimension and per-segment metrics.

    ``per_segment`` scores the spans of each segment (ad_copy, caption, face, ocr); the face
    labels of real photos and of template face texts are also scored apart (``face_photo``,
    ``face_template``): templates teach the tagger to read face text but prove little.
    ``dimension_rule`` is the accuracy of the dimension rule on the gold spans that carry a gold
    dimension; ``anchors`` counts the labels on generated texts found in the describe output.
    """
    examples = [item.example for item in prepared]
    gold = [example.aspects for example in examples]
    gold_overall = [example.overall for example in examples]
    has_overall = any(label is not None for label in gold_overall)
    metrics = evaluate(gold, spans, gold_overall if has_overall else None, list(overall) if has_overall else None,
                       dimension=span_dimension)
    segments = per_dimension_scores(gold, spans, lambda span: span.segment)
    for name, templated in (("face_photo", False), ("face_template", True)):
        rows = [i for i, e in enumerate(examples) if ("face" in e.template_segments) == templated
                and any(s.segment == "face" for s in e.aspects)]
        if rows:
            faces = [[s for s in gold[i] if s.segment == "face"] for i in rows]
            predicted = [[s for s in spans[i] if s.segment == "face"] for i in rows]
            segments[name] = {"jmasa": jmasa_scores(faces, predicted), "ate": ate_scores(faces, predicted),
                              "masc": masc_scores(faces, predicted)}
    metrics["per_segment"] = segments
    metrics["dimension_rule"] = dimension_rule_accuracy(gold)
    metrics["anchors"] = anchor_counts(examples)
    metrics["calibration"] = calibration_errors(examples, spans, overall, overall_confidence)
    return metrics


def calibration_pairs(examples: Sequence[Any], spans: Sequence[Sequence[Any]], overall: Sequence[str],
                      overall_confidence: Sequence[float] | None) -> dict[str, tuple[list[float], list[bool]]]:
    """``{"attribute": (confidences, right)}`` (right: a gold span with the same location and
    sentiment) and, when given and gold labels exist, ``"overall"`` (the label's probability)."""
    confidences, right = [], []
    for example, predicted in zip(examples, spans):
        gold = {span.location: span.sentiment for span in example.aspects}
        for span in predicted:
            confidences.append(span.confidence)
            right.append(gold.get((span.segment, span.start, span.end)) == span.sentiment)
    pairs = {"attribute": (confidences, right)}
    if overall_confidence is not None:
        labelled = [(c, label == e.overall) for e, label, c in zip(examples, overall, overall_confidence)
                    if e.overall is not None]
        pairs["overall"] = ([c for c, _ in labelled], [r for _, r in labelled])
    return pairs


def calibration_errors(examples: Sequence[Any], spans: Sequence[Sequence[Any]], overall: Sequence[str],
                       overall_confidence: Sequence[float] | None) -> dict[str, Any]:
    """Expected calibration error (10 bins) of the attribute confidences and, when given, of the
    overall label's probability (:func:`calibration_pairs`)."""
    from training.calibration import expected_calibration_error

    pairs = calibration_pairs(examples, spans, overall, overall_confidence)
    result = {"attribute_ece": expected_calibration_error(*pairs["attribute"]), "attributes": len(pairs["attribute"][0])}
    if "overall" in pairs:
        result["overall_ece"] = expected_calibration_error(*pairs["overall"])
    return result


def dimension_rule_accuracy(gold: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Accuracy of :func:`model.labels.dimension_of` against the gold dimensions, overall and per gold class."""
    pairs = [(span.dimension, dimension_of(span.term, span.segment)) for spans in gold for span in spans
             if getattr(span, "dimension", None) is not None]
    per_class = {}
    for name in sorted({g for g, _ in pairs}):
        chosen = [p for g, p in pairs if g == name]
        per_class[name] = {"accuracy": sum(p == name for p in chosen) / len(chosen), "support": len(chosen)}
    return {"accuracy": sum(g == p for g, p in pairs) / len(pairs) if pairs else None, "support": len(pairs),
            "per_class": per_class}


def prediction_rows(prepared: Sequence[Prepared], spans: Sequence[Sequence[Any]],
                    overall: Sequence[str]) -> list[dict[str, Any]]:
    """One row per example for error analysis: gold and predicted (term, segment, sentiment), the
    missed gold spans, the spurious predictions, the wrong sentiments, and gold/predicted overall."""
    rows = []
    for item, predicted, label in zip(prepared, spans, overall):
        example = item.example
        gold = {span.location: span for span in example.aspects}
        found = {(p.segment, p.start, p.end): p for p in predicted}
        rows.append({
            "id": example.example_id, "category": example.category, "text": example.text,
            "generated": dict(example.generated), "overall": [example.overall, label],
            "gold": [(g.term, g.segment, g.sentiment) for g in example.aspects],
            "predicted": [(p.term, p.segment, p.sentiment, round(p.confidence, 3)) for p in predicted],
            "missed": [(g.term, g.segment, g.sentiment) for loc, g in gold.items() if loc not in found],
            "spurious": [(p.term, p.segment, p.sentiment) for loc, p in found.items() if loc not in gold],
            "wrong_sentiment": [(g.term, g.segment, g.sentiment, found[loc].sentiment) for loc, g in gold.items()
                                if loc in found and found[loc].sentiment != g.sentiment]})
    return rows


def is_error(row: dict[str, Any]) -> bool:
    """A prediction row with a missed, spurious or wrongly signed span, or a wrong overall label."""
    gold_overall, predicted_overall = row["overall"]
    return bool(row["missed"] or row["spurious"] or row["wrong_sentiment"]
                or (gold_overall is not None and gold_overall != predicted_overall))
