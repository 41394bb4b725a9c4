"""Builders shared by the fused-model tests: descriptions, feature events and a tiny model."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from model.config import ModelConfig
from schemas.description import Description, Face, ImageInfo, OcrResult, Region, Segment
from schemas.events import AdFeatures, AdHeader

SEP = " [SEP] "


def description(caption: str = "a woman in a white spacesuit in front of a flag",
                faces: tuple[str, ...] = ("a happy woman of about 30",),
                ocr: str = "NASA", regions: int = 1) -> Description:
    """A Description whose visual_context and segments are composed as the describe stage does."""
    parts, segments, cursor = [], [], 0

    def add(text: str, name: str, index: int = 0) -> None:
        nonlocal cursor
        segments.append(Segment(name=name, start=cursor, end=cursor + len(text), index=index))
        parts.append(text)
        cursor += len(text)

    add(caption, "caption")
    parts.append(SEP)
    cursor += len(SEP)
    for i, text in enumerate(faces):
        if i:
            parts.append(" ")
            cursor += 1
        add(text, "face", i)
    parts.append(SEP)
    cursor += len(SEP)
    add(ocr, "ocr")
    parts.append(" [SEP]")
    face_objs = tuple(Face(box=(10.0, 10.0, 60.0, 60.0), confidence=0.99, expression="happy", expression_score=0.9,
                           text=t) for t in faces)
    region_objs = tuple(Region(box=(5.0 * i, 5.0 * i, 40.0 + 5 * i, 50.0 + 5 * i), score=0.9 - 0.1 * i, label="person",
                               source="detector") for i in range(regions))
    return Description(image=ImageInfo(width=64, height=64, format="PNG", sha256="0" * 64), caption=caption,
                       faces=face_objs, ocr=OcrResult(engine="test", text=ocr), regions=region_objs,
                       visual_context="".join(parts), segments=tuple(segments))


def features_event(config: ModelConfig, ad_id: str = "ad-1", text: str = "Bright red shoes, terrible price!",
                   desc: Description | None = None, seed: int = 0) -> AdFeatures:
    desc = desc or description()
    vision = config.vision
    count = (1 + min(len(desc.regions), vision.top_regions)) * vision.tokens_per_crop
    array = np.random.default_rng(seed).standard_normal((count, vision.feature_dim)).astype(np.float16)
    from model.vision import features_tensor

    ad = AdHeader(ad_id=ad_id, text=text, uploaded_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    return AdFeatures(ad=ad, description=desc, encoder=vision.name, features=features_tensor(array),
                      stage_seconds={"describe": 0.5, "features": 0.1})
