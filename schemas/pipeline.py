"""The pipeline's stages, defined once: name, input and output event, topics, batch settings.

Every place that needs the stage list (the worker, the Faust app, dead-letter replay, the bench,
the settings) reads it from here; the stage implementations are registered by name in
``streams.service.stages.STAGES``. A stage reads ``input_topic`` and writes ``output_topic`` (both names of
:class:`schemas.settings.Settings` fields), in batches of at most the ``batch_setting`` (CPU) or
``batch_gpu_setting`` (CUDA) field, waiting at most the ``wait_setting`` field to fill one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from schemas.events import AdDescribed, AdFeatures, AdSentiment, AdUploaded

if TYPE_CHECKING:
    from pydantic import BaseModel

    from schemas.settings import Settings

PipelineStage = Literal["describe", "features", "classify"]  # in pipeline order


@dataclass(frozen=True)
class StageSpec:
    name: PipelineStage
    input_event: type[BaseModel]
    output_event: type[BaseModel]
    input_topic: str  # a Settings field
    output_topic: str
    batch_setting: str
    batch_gpu_setting: str
    wait_setting: str

    def topics(self, settings: Settings) -> tuple[str, str]:
        """(the topic this stage reads, the topic it writes)."""
        return getattr(settings, self.input_topic), getattr(settings, self.output_topic)

    def max_batch(self, settings: Settings, on_gpu: bool) -> int:
        """Most ads per batch on the worker's device."""
        return getattr(settings, self.batch_gpu_setting if on_gpu else self.batch_setting)

    def max_wait_s(self, settings: Settings) -> float:
        return getattr(settings, self.wait_setting)


PIPELINE: tuple[StageSpec, ...] = (
    StageSpec("describe", AdUploaded, AdDescribed, "topic_uploaded", "topic_described",
              "describe_max_batch", "describe_max_batch_gpu", "describe_max_wait_s"),
    StageSpec("features", AdDescribed, AdFeatures, "topic_described", "topic_features",
              "features_max_batch", "features_max_batch_gpu", "features_max_wait_s"),
    StageSpec("classify", AdFeatures, AdSentiment, "topic_features", "topic_sentiment",
              "classify_max_batch", "classify_max_batch_gpu", "classify_max_wait_s"),
)
STAGE_NAMES: tuple[PipelineStage, ...] = get_args(PipelineStage)
assert STAGE_NAMES == tuple(spec.name for spec in PIPELINE), "PIPELINE must follow PipelineStage's order"
ALL_STAGES = ",".join(STAGE_NAMES)  # the --stages value of a worker running everything


def spec_of(name: str) -> StageSpec:
    """The spec of a pipeline stage; ValueError naming the known ones otherwise."""
    for spec in PIPELINE:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown stage {name!r}; choose from {ALL_STAGES}")


def in_order(names: object) -> list[PipelineStage]:
    """The given stage names in pipeline order (unknown names are left out)."""
    chosen = set(names)  # type: ignore[call-overload]
    return [name for name in STAGE_NAMES if name in chosen]


def input_topic(settings: Settings, stage: str) -> str:
    """The topic a stage reads: where its dead letters go back to. Intake and replay failures
    (outside the pipeline stages) go back to the uploaded topic."""
    if stage in STAGE_NAMES:
        return spec_of(stage).topics(settings)[0]
    return settings.topic_uploaded
