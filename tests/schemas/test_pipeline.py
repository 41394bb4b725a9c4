"""The stage registry: one definition that the settings, the worker and the stages agree with."""

from __future__ import annotations

from typing import get_args

import pytest

from schemas.base import StageName
from schemas.pipeline import ALL_STAGES, PIPELINE, STAGE_NAMES, in_order, input_topic, spec_of
from schemas.settings import Settings


def test_the_stages_chain_topic_to_topic_in_order() -> None:
    settings = Settings()
    assert STAGE_NAMES == ("describe", "features", "classify") and ALL_STAGES == "describe,features,classify"
    topics = [spec.topics(settings) for spec in PIPELINE]
    assert topics[0][0] == settings.topic_uploaded and topics[-1][1] == settings.topic_sentiment
    assert all(previous[1] == current[0] for previous, current in zip(topics, topics[1:]))
    assert all(a.output_event is b.input_event for a, b in zip(PIPELINE, PIPELINE[1:]))


def test_every_named_setting_exists_and_dead_letters_know_every_stage() -> None:
    settings = Settings(classify_max_batch=7, classify_max_batch_gpu=9)
    assert (spec_of("classify").max_batch(settings, False), spec_of("classify").max_batch(settings, True)) == (7, 9)
    for spec in PIPELINE:
        for field in (spec.input_topic, spec.output_topic, spec.batch_setting, spec.batch_gpu_setting, spec.wait_setting):
            assert field in Settings.model_fields, field
    assert set(STAGE_NAMES) <= set(get_args(StageName))
    assert input_topic(settings, "features") == settings.topic_described
    assert input_topic(settings, "intake") == input_topic(settings, "replay") == settings.topic_uploaded
    assert in_order(["classify", "nope", "describe"]) == ["describe", "classify"]
    with pytest.raises(ValueError, match="choose from describe,features,classify"):
        spec_of("ocr")


def test_each_stage_implementation_reads_its_registered_event() -> None:
    from streams.service.stages import STAGES

    assert tuple(STAGES) == STAGE_NAMES
    assert all(STAGES[spec.name].input_model is spec.input_event for spec in PIPELINE)
