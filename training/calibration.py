"""Fit the confidence temperatures on dev and measure calibration (``adsent calibrate``).

Expected calibration error (ECE, equal-width bins over [0, 1]): the share-weighted mean gap
between the mean confidence of a bin and the share of right answers in it. An attribute is right
when a gold span has its location and sentiment; an overall label when it equals the gold one.
The fit tries every temperature of a grid on the dev split (one forward pass per value) and keeps,
for the attributes and the overall label apart, the one with the lowest dev ECE.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from model.fusion.calibration import Temperatures, save_temperatures

log = logging.getLogger(__name__)
BINS = 10
GRID = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


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


def fit_temperatures(model: Any, prepared: list, text_only: bool, batch_size: int = 32,
                     grid: Sequence[float] = GRID) -> tuple[Temperatures, dict[str, Any]]:
    """The temperatures with the lowest dev ECE (attributes and overall apart), and the curve."""
    from training.runs import evaluate_prepared

    before = model.network.temperatures
    curve = []
    try:
        for value in grid:
            model.network.temperatures = Temperatures(value, value)
            metrics = evaluate_prepared(model, prepared, text_only, batch_size)["calibration"]
            curve.append({"temperature": value, "attribute_ece": metrics["attribute_ece"],
                          "overall_ece": metrics.get("overall_ece")})
    finally:
        model.network.temperatures = before

    def best(key: str) -> float:
        scored = [p for p in curve if p[key] is not None]
        return min(scored, key=lambda p: p[key])["temperature"] if scored else 1.0

    fitted = Temperatures(attribute=best("attribute_ece"), overall=best("overall_ece"))
    at_one = next(p for p in curve if p["temperature"] == 1.0) if 1.0 in grid else curve[0]
    chosen_attr = next(p for p in curve if p["temperature"] == fitted.attribute)
    chosen_overall = next(p for p in curve if p["temperature"] == fitted.overall)
    details = {"examples": len(prepared), "grid": list(grid), "curve": curve,
               "dev_ece_before": {"attribute": at_one["attribute_ece"], "overall": at_one["overall_ece"]},
               "dev_ece_after": {"attribute": chosen_attr["attribute_ece"], "overall": chosen_overall["overall_ece"]}}
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
