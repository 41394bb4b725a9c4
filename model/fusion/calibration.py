"""Temperatures that make the served confidences calibrated (fitted on dev after training).

A confidence of 0.8 should be right about 80 % of the time: recommenders threshold on it. The
attribute temperature divides the CRF's emission and transition scores before forward-backward
(the Viterbi spans do not change, only their marginals); the overall temperature divides the
overall head's logits before the softmax. Both are 1 until fitted (``adsent calibrate``); they
live in ``calibration.json`` beside the checkpoint's weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

CALIBRATION = "calibration.json"


@dataclass(frozen=True)
class Temperatures:
    attribute: float = 1.0
    overall: float = 1.0

    def __post_init__(self) -> None:
        if self.attribute <= 0 or self.overall <= 0:
            raise ValueError(f"temperatures must be positive, got {self}")


def save_temperatures(directory: str | Path, temperatures: Temperatures, details: dict | None = None) -> Path:
    """Write ``calibration.json`` (the temperatures and how they were fitted) into a checkpoint."""
    path = Path(directory) / CALIBRATION
    path.write_text(json.dumps({**asdict(temperatures), **({"fitted": details} if details else {})}, indent=2))
    return path


def load_temperatures(directory: str | Path) -> Temperatures:
    """A checkpoint's temperatures; 1 and 1 (uncalibrated) when it has none."""
    path = Path(directory) / CALIBRATION
    if not path.is_file():
        return Temperatures()
    data = json.loads(path.read_text())
    return Temperatures(attribute=float(data["attribute"]), overall=float(data["overall"]))
