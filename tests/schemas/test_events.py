"""Version 2 events: the image travels once (AdDescribed.image, checked against its hash) and
AdFeatures carries none; uploads, results and dead letters of version 1 are still read."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from schemas import (AdDescribed, AdFeatures, AdHeader, AdUploaded, DeadLetter, Description, ErrorCode, ImageInfo,
                     ImageRef, OcrResult, SchemaError, ValidationPolicy, decode, encode)

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


def features_event(shape: list[int], data: bytes) -> bytes:
    document = json.loads(encode(described()))
    document.pop("image")
    document.update(encoder="x@1", features={"dtype": "float16", "shape": shape,
                                             "data": base64.b64encode(data).decode()})
    return json.dumps(document).encode()


@pytest.mark.parametrize("shape, size", [([-2, -3], 12), ([-1, 6], 0), ([0, 5], 0), ([2, 0], 0)])
def test_a_tensor_dimension_below_one_is_refused(shape: list[int], size: int) -> None:
    """Negative dimensions whose product matches the data, and empty tensors, used to validate."""
    with pytest.raises(SchemaError) as caught:
        decode(features_event(shape, b"\0" * size), AdFeatures)
    assert caught.value.code is ErrorCode.OUT_OF_RANGE and caught.value.field.startswith("features.shape.")


def test_a_tensor_shape_must_match_its_data() -> None:
    assert decode(features_event([2, 3], b"\0" * 12), AdFeatures).features.shape == (2, 3)
    with pytest.raises(SchemaError) as caught:
        decode(features_event([2, 3], b"\0" * 10), AdFeatures)
    assert caught.value.code is ErrorCode.INVALID_VALUE and "needs 12 bytes" in caught.value.message


def upload_at(when: datetime) -> bytes:
    return encode(AdUploaded(ad_id="ad-1", image=ImageRef(uri="https://cdn.example.com/a.png"), text="x",
                             uploaded_at=when))


def test_upload_times_far_ahead_or_long_ago_are_refused_with_the_settings_bounds() -> None:
    from schemas.settings import Settings

    policy = Settings(upload_max_future_s=300, upload_max_age_days=30).validation_policy()
    now = datetime.now(timezone.utc)
    for when in (now + timedelta(minutes=4), now - timedelta(days=29), now):
        assert decode(upload_at(when), AdUploaded, policy).uploaded_at == when
    for when in (now + timedelta(minutes=6), now - timedelta(days=31), datetime(1970, 1, 1, tzinfo=timezone.utc)):
        with pytest.raises(SchemaError) as caught:
            decode(upload_at(when), AdUploaded, policy)
        assert caught.value.code is ErrorCode.TIMESTAMP_OUT_OF_RANGE and caught.value.field == "uploaded_at"


def test_upload_times_are_unbounded_without_a_configured_policy() -> None:
    """Offline tools (datasets, schema checks) read old ads; only workers apply the bounds."""
    old = datetime(2001, 1, 1, tzinfo=timezone.utc)
    assert decode(upload_at(old), AdUploaded).uploaded_at == old


def test_a_dead_letter_without_a_replay_count_reads_as_never_replayed() -> None:
    letter = {"schema_version": 2, "stage": "describe", "code": "x", "message": "m", "exception_type": "E"}
    assert decode(json.dumps(letter).encode(), DeadLetter).replays == 0
    assert decode(json.dumps({**letter, "replays": 2}).encode(), DeadLetter).replays == 2
