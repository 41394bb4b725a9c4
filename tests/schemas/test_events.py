"""Version 2 events: the image travels once (AdDescribed.image, checked against its hash) and
AdFeatures carries none; uploads, results and dead letters of version 1 are still read."""

from __future__ import annotations

import hashlib
import json

import pytest

from schemas import (AdDescribed, AdFeatures, AdHeader, AdUploaded, Description, ErrorCode, ImageInfo, ImageRef,
                     OcrResult, SchemaError, ValidationPolicy, decode, encode)

IMAGE = b"\x89PNG fake bytes"


def described(image: bytes = IMAGE, sha256: str | None = None) -> AdDescribed:
    ad = AdUploaded(ad_id="ad-1", image=ImageRef(uri="https://cdn.example.com/a.png"), text="Bright red shoes")
    info = ImageInfo(width=8, height=8, format="PNG", sha256=sha256 or hashlib.sha256(image).hexdigest())
    return AdDescribed(ad=AdHeader.of(ad), image=image,
                       description=Description(image=info, caption="", ocr=OcrResult(engine="none", text=""),
                                               visual_context=""))


def test_the_described_event_carries_the_header_and_the_checked_image() -> None:
    event = decode(encode(described()), AdDescribed)
    assert event.schema_version == 2 and event.image == IMAGE
    assert event.ad.image_uri == "https://cdn.example.com/a.png" and event.ad.text == "Bright red shoes"
    with pytest.raises(ValueError, match="sha256"):
        described(sha256="0" * 64)


def test_the_described_image_is_capped_by_the_policy() -> None:
    with pytest.raises(SchemaError) as caught:
        decode(encode(described(image=b"x" * 2000)), AdDescribed, ValidationPolicy(max_image_bytes=1000))
    assert caught.value.code is ErrorCode.IMAGE_TOO_LARGE


def test_features_events_carry_no_image() -> None:
    document = json.loads(encode(described()))
    document.pop("image")
    document.update(encoder="x@1", features={"dtype": "float16", "shape": [1, 1], "data": "AAA="})
    with pytest.raises(SchemaError) as caught:
        decode(json.dumps({**document, "image": "AAAA"}).encode(), AdFeatures)
    assert caught.value.code is ErrorCode.UNEXPECTED_FIELD


def test_version_1_of_a_changed_event_is_refused_by_version() -> None:
    document = json.loads(encode(described()))
    with pytest.raises(SchemaError) as caught:
        decode(json.dumps({**document, "schema_version": 1}).encode(), AdDescribed)
    assert caught.value.code is ErrorCode.UNKNOWN_SCHEMA_VERSION
