"""Known ads for the report tests: results with and without evidence, a dead letter, real photos."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas import AdSentiment, AdUploaded, DeadLetter, ImageRef, encode
from schemas.events import AttributeSentiment, GeneratedTexts, OverallSentiment, VisualConcept
from schemas.evidence import Evidence, FaceEvidence, GateSummary, RegionEvidence

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
COPY = "Reach for the stars: our new flight jacket keeps you warm, but the price is awful."
CAPTION = "a woman in a white spacesuit in front of a flag"
FACE = "a happy woman of about 34 looking at the camera"
OCR = "NASA\nSPACE SALE"  # the model reads "NASA / SPACE SALE"


def attribute(term: str, text: str, segment: str, sentiment: str, dimension: str, confidence: float,
              index: int = 0) -> AttributeSentiment:
    start = text.index(term)
    return AttributeSentiment(term=term, segment=segment, dimension=dimension, start=start, end=start + len(term),
                              segment_index=index, sentiment=sentiment, confidence=confidence)


def gate(layers: int = 2, regions: int = 2) -> GateSummary:
    """Whole-image vectors 40/15/15/15/15 and region vectors spread evenly, per layer."""
    region_share = 100 // (5 * regions) if regions else 0
    row = (40, 15, 15, 15, 15) + (region_share,) * (5 * regions)
    return GateSummary(grids=(1, 2), weights=(row,) * layers)


def evidence(width: int = 512, height: int = 512, layers: int = 2, regions: int = 2) -> Evidence:
    """One face, two OCR lines, a face and a text region, then salient ones up to ``regions``."""
    found = (RegionEvidence(box=(180, 60, 270, 175), label="face", source="face"),
             RegionEvidence(box=(10, 450, 250, 500), label="text", source="text"))
    found += tuple(RegionEvidence(box=(300, 300 + 20 * n, 500, 400), label="salient", source="saliency")
                   for n in range(regions - 2))
    return Evidence(
        width=width, height=height,
        faces=(FaceEvidence(box=(180, 60, 270, 175), expression="happy", age=34, gender="female", pose=(2, -25, 2)),),
        ocr_boxes=((10, 10, 120, 40), (10, 450, 250, 500)),
        regions=found[:regions],
        gate=gate(layers, regions),
    )


def full_result(ad_id: str, label: str = "positive") -> AdSentiment:
    """A result of the served model's sizes: 6 layers, 4 regions (25 vectors), 10 concepts."""
    base = result(ad_id, label)
    return base.model_copy(update={"evidence": evidence(layers=6, regions=4), "concepts": base.concepts * 5})


def result(ad_id: str = "astro-1", label: str = "positive", with_evidence: bool = True, copy: str = COPY,
           ocr: str = OCR) -> AdSentiment:
    """A result whose spans sit in the ad copy, caption, face and OCR texts."""
    nz_ocr = " / ".join(ocr.split("\n"))
    attributes = (attribute("flight jacket", copy, "ad_copy", "positive", "object", 0.81),
                  attribute("price", copy, "ad_copy", "negative", "object", 0.64),
                  attribute("white", CAPTION, "caption", "neutral", "color", 0.55),
                  attribute("woman", FACE, "face", "positive", "face", 0.9),
                  attribute("SALE", nz_ocr, "ocr", "positive", "text", 0.72))
    scores = {"positive": 0.1, "neutral": 0.2, "negative": 0.1}
    scores[label] = 0.7
    return AdSentiment(
        ad_id=ad_id, model_version="test-model-1", overall=OverallSentiment(label=label, scores=scores),
        attributes=attributes,
        concepts=(VisualConcept(anp="smiling_face", score=0.3, sentiment="positive", sentiment_score=1.53),
                  VisualConcept(anp="angry_face", score=0.1, sentiment="negative", sentiment_score=-1.87)),
        texts=GeneratedTexts(caption=CAPTION, faces=(FACE,), ocr=ocr), uploaded_at=NOW - timedelta(seconds=3),
        emitted_at=NOW, stage_seconds={"describe": 1.5, "features": 0.3, "classify": 0.1}, end_to_end_seconds=3.0,
        evidence=evidence() if with_evidence else None)


def upload(ad_id: str, image: bytes, copy: str = COPY) -> AdUploaded:
    return AdUploaded(ad_id=ad_id, image=ImageRef(data=image), text=copy, platform="test")


def dead_letter(ad_id: str = "broken-1", with_payload: bool = True) -> DeadLetter:
    payload = encode(upload(ad_id, b"not an image", "Half price on everything")) if with_payload else None
    return DeadLetter(ad_id=ad_id, stage="describe", code="image_corrupt", payload=payload,
                      message="image_corrupt: cannot identify the image", exception_type="ImageError", failed_at=NOW)


def photo(name: str = "astronaut") -> bytes:
    from streams.demo.samples import photo_jpeg

    return photo_jpeg(name)
