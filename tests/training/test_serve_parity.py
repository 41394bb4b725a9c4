"""Train/serve parity: the training feature cache and evaluation read an ad exactly as the three
service stages do (same N_z, same features, same scores), and a trained run records its describe
configuration for serving."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from model.config import ModelConfig
from model.predict import AdSentimentModel
from model.vision import features_array
from schemas import AdUploaded, ImageRef
from schemas.settings import Settings
from streams.service.metrics import Metrics
from streams.demo.samples import SAMPLE_ADS, photo_jpeg
from streams.service.stages import ClassifyStage, DescribeStage, Emitted, FeaturesStage, InRecord
from training.data.examples import JmasaExample
from training.evaluation import predict_prepared
from training.runs import feature_cache, prepare


def _emitted(results: list) -> list:
    assert all(isinstance(r, Emitted) for r in results), results
    return [r.event for r in results]


@pytest.mark.slow
def test_training_and_serving_read_the_same_texts_features_and_scores(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state", device="cpu")
    torch.manual_seed(0)  # a tiny text side on the real offline vision backbone (random vision weights would differ
    config = replace(ModelConfig.tiny(), vision=ModelConfig.offline_default().vision)  # between two extractors)
    model = AdSentimentModel.from_config(config, device="cpu")
    examples, records = [], []
    for index, (name, text) in enumerate(SAMPLE_ADS[:3]):
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(photo_jpeg(name))
        examples.append(JmasaExample(f"ad-{index}", text, (), image_path=path))
        ad = AdUploaded(ad_id=f"ad-{index}", image=ImageRef(data=path.read_bytes()), text=text)
        records.append(InRecord(value=ad.model_dump_json().encode()))

    # training's path: the feature cache, then the evaluation forward pass
    prepared = prepare(examples, model.config, feature_cache(settings, model.config, "cpu"))
    spans, overall, confidence = predict_prepared(model.network, model.views, model.config, prepared, 8, False,
                                                  model.device)

    # serving's path: the three stages, each on the previous stage's bytes
    metrics = Metrics()
    described = DescribeStage(settings, metrics).run(records)
    featured = FeaturesStage(settings, metrics, extractor=model.feature_extractor).run(
        [InRecord(value=r.value) for r in described])
    results = _emitted(ClassifyStage(settings, metrics, model=model).run([InRecord(value=r.value) for r in featured]))

    for item, event, result, tagged, label, score in zip(prepared, _emitted(featured), results, spans, overall,
                                                         confidence):
        assert event.description.model_dump(exclude={"timings"}) == item.description.model_dump(exclude={"timings"})
        assert model.contexts([event])[0].text == item.context.text  # the same N_z
        np.testing.assert_allclose(features_array(event.features), item.features.astype(np.float32), atol=2e-3)
        assert result.overall.label == label
        assert result.overall.scores[label] == pytest.approx(score, abs=2e-3)
        assert [(a.term, a.segment, a.sentiment) for a in result.attributes] == \
            [(a.term, a.segment, a.sentiment) for a in tagged]
        assert [a.confidence for a in result.attributes] == pytest.approx([a.confidence for a in tagged], abs=2e-3)
