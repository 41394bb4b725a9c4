"""The classify step writes the evidence block: boxes of the description and the per-layer gate."""

from __future__ import annotations

import pytest
from fusion_factories import description, features_event

from model.config import ModelConfig
from model.evidence import EvidenceLimits, build_evidence
from model.predict import AdSentimentModel
from schemas.description import OcrLine, OcrResult


@pytest.fixture(scope="module")
def model() -> AdSentimentModel:
    return AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")


def test_results_carry_the_gate_over_every_encoded_vector(model: AdSentimentModel) -> None:
    vision = model.config.vision
    events = [features_event(model.config, "ad-1", desc=description(regions=3)),
              features_event(model.config, "ad-2", desc=description(faces=(), regions=0))]
    first, second = model.classify(events)
    for result, regions in ((first, vision.top_regions), (second, 0)):
        gate = result.evidence.gate
        assert len(gate.weights) == model.network.text.num_layers
        assert len(gate.weights[0]) == (1 + regions) * vision.tokens_per_crop
        assert len(result.evidence.regions) == regions
        for row in gate.weights:  # Eq. 10 gates the whole image and the regions separately
            assert sum(row[:vision.tokens_per_crop]) == pytest.approx(100, abs=3)
            if regions:
                assert sum(row[vision.tokens_per_crop:]) == pytest.approx(100, abs=regions * vision.tokens_per_crop)
    assert [r.label for r in first.evidence.regions] == ["person", "person"]  # the top-C by score, in order
    assert first.evidence.faces[0].box == (10, 10, 60, 60) and first.evidence.faces[0].expression == "happy"


def test_evidence_can_be_switched_off_and_needs_prefixes_for_the_gate(model: AdSentimentModel) -> None:
    event = features_event(model.config)
    model.evidence = False
    try:
        assert model.classify([event])[0].evidence is None
    finally:
        model.evidence = True
    plain = AdSentimentModel.from_config(ModelConfig.tiny().with_ablation(use_prefix=False), device="cpu")
    evidence = plain.classify([features_event(plain.config)])[0].evidence
    assert evidence is not None and evidence.gate is None and evidence.faces


def test_the_block_is_capped_and_boxes_are_whole_pixels() -> None:
    config = ModelConfig.tiny()
    lines = tuple(OcrLine(text=f"line {n}", box=(n + 0.4, 1.6, 10.5, 20.0), confidence=0.9) for n in range(40))
    desc = description().model_copy(update={"ocr": OcrResult(engine="t", text="\n".join(l.text for l in lines),
                                                             lines=lines)})
    limits = EvidenceLimits(max_ocr_lines=8)
    block = build_evidence(desc, config.vision, config.vision.tokens_per_crop * 2, None, limits)
    assert len(block.ocr_boxes) == 8 and block.ocr_boxes[1] == (1, 2, 10, 20)  # round half to even
    assert block.gate is None and len(block.regions) == 1
