"""Common base of every event and shared field types."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

import base64

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo
from pydantic_core import PydanticCustomError

from schemas.policy import DEFAULT_POLICY, ValidationPolicy

SCHEMA_VERSION = 2  # 2: the image travels once (AdDescribed.image); AdFeatures carries none

AD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$"
AD_ID_MAX_LENGTH = 128
# Hard ceiling in the JSON Schema; the configurable cap (policy.max_text_chars) is lower.
TEXT_HARD_MAX = 100_000

Sentiment = Literal["positive", "neutral", "negative"]
SENTIMENTS: tuple[Sentiment, ...] = ("positive", "neutral", "negative")
SegmentName = Literal["ad_copy", "caption", "face", "ocr"]
Dimension = Literal["color", "object", "scene", "face", "text"]
StageName = Literal["intake", "describe", "features", "classify", "replay"]

AdId = Annotated[str, Field(min_length=1, max_length=AD_ID_MAX_LENGTH, pattern=AD_ID_PATTERN,
                            description="Platform-unique ad id; the Kafka key of every event.")]
# (x0, y0, x1, y1) in pixels of the upright (EXIF-oriented) image.
Box = Annotated[tuple[float, float, float, float], Field(description="x0, y0, x1, y1 in pixels")]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def policy_of(info: ValidationInfo) -> ValidationPolicy:
    """The policy passed as validation context, or the default one."""
    context = info.context or {}
    policy = context.get("policy") if isinstance(context, dict) else None
    return policy if isinstance(policy, ValidationPolicy) else DEFAULT_POLICY


def _check_text_cap(value: str, info: ValidationInfo) -> str:
    cap = policy_of(info).max_text_chars
    if len(value) > cap:
        raise PydanticCustomError("too_long", "text has {length} characters; the cap is {cap}",
                                  {"length": len(value), "cap": cap})
    return value


CappedText = Annotated[str, Field(max_length=TEXT_HARD_MAX), AfterValidator(_check_text_cap)]


def _base64_schema(schema: dict) -> None:
    schema.pop("format", None)  # pydantic says base64url; we write standard base64
    schema["contentEncoding"] = "base64"


# Bytes travel as standard base64 (RFC 4648 section 4); URL-safe base64 is accepted on input too.
Base64Bytes = Annotated[
    bytes,
    PlainSerializer(lambda value: base64.b64encode(value).decode("ascii"), return_type=str, when_used="json"),
    Field(json_schema_extra=_base64_schema),
]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("invalid_value", "timestamps must carry a time zone (use UTC)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]


class Record(BaseModel):
    """A strict, frozen value object (a part of an event)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
        ser_json_inf_nan="strings",
    )


class Event(Record):
    """A top-level event on a topic. ``schema_version`` is checked before anything else."""

    schema_version: Literal[2] = Field(SCHEMA_VERSION, description="Bumped on any incompatible change.")


class StableEvent(Event):
    """An event whose shape did not change in version 2: version 1 is still accepted on input."""

    schema_version: Literal[1, 2] = Field(SCHEMA_VERSION, description="1 or 2 (the same shape); 2 is written.")
