"""Fit the confidence temperatures on dev and measure calibration (``adsent calibrate``).

Expected calibration error (ECE, equal-width bins over [0, 1]): the share-weighted mean gap
between the mean confidence of a bin and the share of right answers in it. An attribute is right
when a gold span has its location and sentiment; an overall label when it equals the gold one.

The fit runs the network over the dev split once, then re-decodes its confidences at every
temperature of a fine grid and keeps, for the attributes and the overall label apart, the one
with the lowest Brier score (mean squared gap between confidence and rightness). Brier is a proper
score: it uses every answer, not bin averages, so it is steadier than dev ECE on dev splits of a
few hundred spans (on the public review sets, choosing by dev ECE left test ECE up to 0.15;
``README.md``, "Calibration").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from model.fusion.calibration import Temperatures, save_temperatures

log = logging.getLogger(__name__)
BINS = 10
GRID = tuple(round(0.5 + 0.05 * step, 2) for step in range(71))  # 0.5, 0.55, ..., 4.0


def expected_calibration_error(confidences: Sequence[float], right: Sequence[bool], bins: int = BINS) -> float | None:
    """ECE over ``bins`` equal-width bins; None when there is nothing to measure."""
    if not confidences:
        return None
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, confidence sum, right count
    for confidence, ok in zip(confidences, right):
        slot = totals[min(bins - 1, int(confidence * bins))]
        slot[0] += 1
        slot[1] += confidence
        slot[2] += bool(ok)
    return sum(abs(conf / n - hits / n) * n for n, conf, hits in totals if n) / len(confidences)


def brier_score(confidences: Sequence[float], right: Sequence[bool]) -> float | None:
    """Mean squared gap between each confidence and its rightness (1 or 0); None when empty."""
    if not confidences:
        return None
    return sum((confidence - float(ok)) ** 2 for confidence, ok in zip(confidences, right)) / len(confidences)


def fit_temperatures(model: Any, prepared: list, text_only: bool, batch_size: int = 32,
                     grid: Sequence[float] = GRID) -> tuple[Temperatures, dict[str, Any]]:
    """The temperatures with the lowest dev Brier score (attributes and overall apart), and the curve."""
    from training.evaluation import calibration_pairs, decode_outputs, forward_prepared

    network, config = model.network, model.config
    outputs = forward_prepared(network, model.views, config, prepared, batch_size, text_only, model.device)
    examples = [item.example for item in prepared]
    curve = []
    for value in grid:
        spans, overall, confidence = decode_outputs(network, config, prepared, outputs, Temperatures(value, value))
        pairs = calibration_pairs(examples, spans, overall, confidence)
        point = {"temperature": value}
        for key, (confidences, right) in pairs.items():
            point[f"{key}_brier"] = brier_score(confidences, right)
            point[f"{key}_ece"] = expected_calibration_error(confidences, right)
        curve.append(point)

    def best(key: str) -> dict[str, Any]:
        scored = [p for p in curve if p.get(f"{key}_brier") is not None]
        return min(scored, key=lambda p: p[f"{key}_brier"]) if scored else at_one

    at_one = min(curve, key=lambda p: abs(p["temperature"] - 1.0))
    chosen_attr, chosen_overall = best("attribute"), best("overall")
    fitted = Temperatures(attribute=chosen_attr["temperature"], overall=chosen_overall["temperature"])
    details = {"examples": len(prepared), "objective": "brier", "grid": list(grid), "curve": curve,
               "dev_ece_before": {"attribute": at_one["attribute_ece"], "overall": at_one.get("overall_ece")},
               "dev_ece_after": {"attribute": chosen_attr["attribute_ece"], "overall": chosen_overall.get("overall_ece")}}
    return fitted, details


def calibrate(model: Any, checkpoint: Any, prepared: list, text_only: bool, batch_size: int = 32) -> dict[str, Any]:
    """Fit on ``prepared`` (dev), write ``calibration.json`` into ``checkpoint`` and set it on ``model``."""
    fitted, details = fit_temperatures(model, prepared, text_only, batch_size)
    save_temperatures(checkpoint, fitted, details)
    model.network.temperatures = fitted
    log.info("calibrated %s: attribute temperature %.2f (dev ECE %s -> %s), overall %.2f (%s -> %s)", checkpoint,
             fitted.attribute, _fmt(details["dev_ece_before"]["attribute"]), _fmt(details["dev_ece_after"]["attribute"]),
             fitted.overall, _fmt(details["dev_ece_before"]["overall"]), _fmt(details["dev_ece_after"]["overall"]))
    return {"attribute": fitted.attribute, "overall": fitted.overall, **details}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
