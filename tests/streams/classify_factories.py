"""A model-free classify stage and AdFeatures records, for tests of what the classify stage records."""

from __future__ import annotations

from datetime import datetime, timezone

from schemas import (AdFeatures, AdHeader, AdSentiment, AttributeSentiment, Description, GeneratedTexts, ImageInfo,
                     OcrResult, OverallSentiment, encode)
from schemas.events import FeatureTensor
from schemas.settings import Settings
from streams.service.metrics import Metrics
from streams.service.stages import ClassifyStage, InRecord

UPLOADED = datetime(2024, 1, 1, tzinfo=timezone.utc)


class CannedClassify(ClassifyStage):
    """Classifies every ad as positive with one colour span of ``span_sentiment``, without a model."""

    span_sentiment = "negative"

    def infer(self, events, prepared):
        span = AttributeSentiment(term="red", segment="ad_copy", dimension="color", start=0, end=3,
                                  sentiment=self.span_sentiment, confidence=0.9)
        return [AdSentiment(ad_id=e.ad.ad_id, model_version="test", uploaded_at=e.ad.uploaded_at,
                            end_to_end_seconds=1.0, overall=OverallSentiment(label="positive", scores={"positive": 1.0}),
                            attributes=(span,), texts=GeneratedTexts(caption="")) for e in events]


def canned_classify(settings: Settings, metrics: Metrics | None = None) -> CannedClassify:
    return CannedClassify(settings, metrics or Metrics(), model=object())


def features_record(ad_id: str, platform: str = "facebook", uploaded_at: datetime = UPLOADED) -> InRecord:
    """An AdFeatures message of a 1x1 image whose copy is 'red'."""
    description = Description(image=ImageInfo(width=1, height=1, format="PNG", sha256="0" * 64), caption="",
                              ocr=OcrResult(engine="none", text=""), visual_context="")
    event = AdFeatures(ad=AdHeader(ad_id=ad_id, text="red", platform=platform, uploaded_at=uploaded_at),
                       description=description, encoder="test",
                       features=FeatureTensor(dtype="float16", shape=(1, 1), data=b"\0\0"))
    return InRecord(encode(event), ad_id.encode())
