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


def test_brier_score_is_the_mean_squared_gap() -> None:
    from training.calibration import brier_score

    assert brier_score([1.0, 0.0], [True, False]) == pytest.approx(0.0)
    assert brier_score([0.8, 0.6], [True, False]) == pytest.approx((0.04 + 0.36) / 2)
    assert brier_score([], []) is None


def test_one_forward_pass_decodes_at_any_temperature() -> None:
    """Re-decoding a kept forward pass equals predicting with the temperatures set on the network."""
    import torch

    from model.config import ModelConfig
    from model.fusion.calibration import Temperatures
    from model.predict import AdSentimentModel
    from training.evaluation import decode_outputs, forward_prepared, predict_prepared
    from tests.training.test_trainer import prepared

    torch.manual_seed(0)
    model = AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")
    items = prepared(model.config)
    items[1].features = items[1].context = None  # one text-only row in the fused batch
    args = (model.network, model.views, model.config, items, 3, False, model.device)
    outputs = forward_prepared(*args)
    for temperatures in (Temperatures(), Temperatures(2.5, 0.7)):
        model.network.temperatures = temperatures
        expected = predict_prepared(*args)
        got = decode_outputs(model.network, model.config, items, outputs, temperatures)
        assert got[1] == expected[1] and got[2] == pytest.approx(expected[2])
        assert [[(a.term, a.sentiment) for a in row] for row in got[0]] == \
            [[(a.term, a.sentiment) for a in row] for row in expected[0]]
        assert [a.confidence for row in got[0] for a in row] == pytest.approx(
            [a.confidence for row in expected[0] for a in row])


def test_fit_keeps_the_temperature_with_the_lowest_dev_brier() -> None:
    import torch

    from model.config import ModelConfig
    from model.predict import AdSentimentModel
    from training.calibration import fit_temperatures
    from tests.training.test_trainer import prepared

    torch.manual_seed(0)
    model = AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")
    fitted, details = fit_temperatures(model, prepared(model.config), text_only=False, grid=(0.5, 1.0, 3.0))
    curve = details["curve"]
    assert [p["temperature"] for p in curve] == [0.5, 1.0, 3.0] and details["objective"] == "brier"
    scored = [p for p in curve if p["attribute_brier"] is not None]
    if scored:
        assert fitted.attribute == min(scored, key=lambda p: p["attribute_brier"])["temperature"]
    assert fitted.overall == min(curve, key=lambda p: p["overall_brier"])["temperature"]
