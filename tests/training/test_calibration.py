"""Expected calibration error, and the temperature fit on dev."""

from __future__ import annotations

import pytest

from training.calibration import expected_calibration_error


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    confidences = [0.85] * 20 + [0.25] * 4
    right = [True] * 17 + [False] * 3 + [True] + [False] * 3
    assert expected_calibration_error(confidences, right) == pytest.approx(0.0)


def test_ece_weights_each_bin_by_its_share() -> None:
    # 3 answers at 0.95, all wrong (gap 0.95); 1 at 0.55, right (gap 0.45)
    assert expected_calibration_error([0.95, 0.95, 0.95, 0.55], [False, False, False, True]) == pytest.approx(
        (3 * 0.95 + 0.45) / 4)
    assert expected_calibration_error([1.0], [True]) == pytest.approx(0.0)  # 1.0 lands in the top bin
    assert expected_calibration_error([], []) is None
