"""Round trips and every kind of bad event: each a SchemaError with field path and code."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from schemas import AdSentiment, AdUploaded, DeadLetter, ErrorCode, SchemaError, ValidationPolicy, decode, encode
from tests.schemas.strategies import ad_sentiment, ad_uploaded, dead_letters

GOOD = {
    "schema_version": 1,
    "ad_id": "ad-1",
    "image": {"uri": "https://cdn.example.com/ad-1.jpg"},
    "text": "Soft leather seats and a quiet cabin.",
    "uploaded_at": "2026-01-01T00:00:00Z",
}


def payload(**changes: object) -> bytes:
    body = {**GOOD, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def expect(data: bytes, code: ErrorCode, field: str, model=AdUploaded, policy: ValidationPolicy | None = None) -> None:
    with pytest.raises(SchemaError) as caught:
        decode(data, model, policy or ValidationPolicy())
    assert caught.value.code is code, caught.value
    assert caught.value.field == field, caught.value
    assert caught.value.code.value in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(ad_uploaded)
def test_ad_uploaded_round_trip(event: AdUploaded) -> None:
    assert decode(encode(event), AdUploaded) == event


@settings(max_examples=40, deadline=None)
@given(ad_sentiment)
def test_ad_sentiment_round_trip(event: AdSentiment) -> None:
    assert decode(encode(event), AdSentiment) == event


@settings(max_examples=40, deadline=None)
@given(dead_letters)
def test_dead_letter_round_trip(event: DeadLetter) -> None:
    assert decode(encode(event), DeadLetter) == event


def test_good_payload_decodes() -> None:
    event = decode(payload(), AdUploaded)
    assert event.ad_id == "ad-1" and event.image.uri.endswith(".jpg")


def test_missing_field() -> None:
    expect(payload(text=...), ErrorCode.MISSING_FIELD, "text")


def test_wrong_type() -> None:
    expect(payload(text=42), ErrorCode.WRONG_TYPE, "text")


def test_extra_field() -> None:
    expect(payload(surprise=True), ErrorCode.UNEXPECTED_FIELD, "surprise")


def test_oversize_text_uses_the_configured_cap() -> None:
    expect(payload(text="x" * 101), ErrorCode.TOO_LONG, "text", policy=ValidationPolicy(max_text_chars=100))
    assert decode(payload(text="x" * 100), AdUploaded, ValidationPolicy(max_text_chars=100)).text == "x" * 100


def test_oversize_inline_image() -> None:
    import base64

    image = {"data": base64.b64encode(b"\x89PNG" + b"0" * 2000).decode()}
    expect(payload(image=image), ErrorCode.IMAGE_TOO_LARGE, "image.data", policy=ValidationPolicy(max_image_bytes=1000))


def test_oversize_payload_is_refused_before_parsing() -> None:
    expect(b"{" + b" " * 2000 + b"}", ErrorCode.PAYLOAD_TOO_LARGE, "", policy=ValidationPolicy(max_payload_bytes=1000))


def test_non_utf8_bytes() -> None:
    expect(b'{"ad_id": "\xff\xfe"}', ErrorCode.INVALID_ENCODING, "")


def test_invalid_json() -> None:
    expect(b'{"ad_id": ', ErrorCode.INVALID_JSON, "")


def test_not_an_object() -> None:
    expect(b"[1, 2]", ErrorCode.NOT_AN_OBJECT, "")


def test_unknown_schema_version() -> None:
    # version 2 changed AdDescribed and AdFeatures only; an upload is the same in 1 and 2
    expect(payload(schema_version=3), ErrorCode.UNKNOWN_SCHEMA_VERSION, "schema_version")
    assert decode(payload(schema_version=2), AdUploaded).schema_version == 2
    assert decode(payload(schema_version=1), AdUploaded).schema_version == 1


def test_bad_ad_id_pattern_and_length() -> None:
    expect(payload(ad_id="../etc"), ErrorCode.PATTERN_MISMATCH, "ad_id")
    expect(payload(ad_id="a" * 129), ErrorCode.TOO_LONG, "ad_id")


def test_enum_value() -> None:
    bad = {"ad_id": "a", "stage": "nowhere", "code": "x", "message": "m", "exception_type": "E"}
    expect(json.dumps({"schema_version": 1, **bad}).encode(), ErrorCode.INVALID_VALUE, "stage", model=DeadLetter)


def test_naive_timestamp_is_refused() -> None:
    expect(payload(uploaded_at="2026-01-01T00:00:00"), ErrorCode.INVALID_VALUE, "uploaded_at")


@pytest.mark.parametrize("uri", [
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1/ad.jpg",
    "http://localhost:8080/ad.jpg",
    "http://10.0.0.5/ad.jpg",
    "http://[::1]/ad.jpg",
    "http://[::ffff:127.0.0.1]/ad.jpg",
    "ftp://cdn.example.com/ad.jpg",
    "gopher://cdn.example.com/",
])
def test_disallowed_uri(uri: str) -> None:
    expect(payload(image={"uri": uri}), ErrorCode.URI_NOT_ALLOWED, "image.uri")


def test_file_uri_only_below_configured_root(tmp_path) -> None:
    policy = ValidationPolicy(file_root=tmp_path)
    inside = tmp_path / "ad.png"
    assert decode(payload(image={"uri": inside.as_uri()}), AdUploaded, policy).image.uri == inside.as_uri()
    expect(payload(image={"uri": "file:///etc/passwd"}), ErrorCode.URI_NOT_ALLOWED, "image.uri", policy=policy)
    expect(payload(image={"uri": (tmp_path / ".." / "x.png").as_uri()}), ErrorCode.URI_NOT_ALLOWED, "image.uri",
           policy=policy)


def test_private_hosts_when_configured() -> None:
    policy = ValidationPolicy(allow_private_hosts=True)
    assert decode(payload(image={"uri": "http://127.0.0.1/a.jpg"}), AdUploaded, policy)


def test_host_allow_list() -> None:
    policy = ValidationPolicy(allowed_uri_hosts=frozenset({"*.example.com"}))
    assert decode(payload(), AdUploaded, policy)
    expect(payload(image={"uri": "https://evil.test/a.jpg"}), ErrorCode.URI_NOT_ALLOWED, "image.uri", policy=policy)


def test_image_needs_exactly_one_source() -> None:
    expect(payload(image={}), ErrorCode.IMAGE_MISSING, "image")
    expect(payload(image={"uri": "https://cdn.example.com/a.jpg", "data": "eHg="}), ErrorCode.IMAGE_MISSING, "image")


def test_every_problem_is_listed() -> None:
    with pytest.raises(SchemaError) as caught:
        decode(payload(text=1, ad_id=...), AdUploaded)
    fields = {field for field, _, _ in caught.value.errors}
    assert fields == {"text", "ad_id"}


@pytest.mark.parametrize("garbage", [b"", b"null", b"\x00\x01", b'"string"', b"1e999", b"{}" * 3])
def test_garbage_never_escapes_as_another_exception(garbage: bytes) -> None:
    with pytest.raises(SchemaError):
        decode(garbage, AdUploaded)
