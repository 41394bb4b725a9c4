"""A small real stage for testing the stage engine and the agents without models."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from schemas import AdDescribed, AdHeader, AdUploaded, Description, ImageInfo, OcrResult
from schemas.settings import Settings
from streams.service.errors import StageError
from streams.service.metrics import Metrics
from streams.service.stages import Stage


class UppercaseStage(Stage[AdUploaded, str]):
    """Describes an ad by upper-casing its copy. Ads whose copy says so fail in the chosen way."""

    name = "describe"
    input_model = AdUploaded

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        super().__init__(settings, metrics, sleep=lambda s: self.sleeps.append(s))
        self.sleeps: list[float] = []
        self.batches: list[int] = []
        self.flaky_left = 1

    def prepare(self, event: AdUploaded) -> str:
        if "bad image" in event.text:
            raise StageError("image_corrupt", "cannot decode the image")
        return event.text.upper()

    def infer(self, events: Sequence[AdUploaded], prepared: Sequence[str]) -> list[str]:
        self.batches.append(len(events))
        if any("poison" in e.text for e in events):
            raise ValueError("the model cannot digest this")
        if any("flaky" in e.text for e in events) and self.flaky_left:
            self.flaky_left -= 1
            raise TimeoutError("device busy")
        return list(prepared)

    def finish(self, event: AdUploaded, output: str, seconds: float) -> AdDescribed:
        image = output.encode()
        description = Description(image=ImageInfo(width=1, height=1, format="PNG", sha256=hashlib.sha256(image).hexdigest()),
                                  caption=output, ocr=OcrResult(engine="none", text=""), visual_context=output)
        return AdDescribed(ad=AdHeader.of(event), image=image, description=description,
                           stage_seconds={"describe": seconds})


@pytest.fixture
def stage_settings() -> Settings:
    return Settings(max_attempts=3, retry_backoff_s=0.1)


@pytest.fixture
def uppercase_stage(stage_settings: Settings) -> UppercaseStage:
    return UppercaseStage(stage_settings, Metrics())
