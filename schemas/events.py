"""The events on the five topics (see the README's "Topics and events")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.base import (
    AdId,
    AwareDatetime,
    Base64Bytes,
    CappedText,
    Dimension,
    Event,
    Probability,
    Record,
    SegmentName,
    Sentiment,
    StableEvent,
    StageName,
    policy_of,
    utc_now,
)
from schemas.description import Description
from schemas.errors import CODE_MAX_LENGTH, CODE_PATTERN
from schemas.evidence import Evidence


class ImageRef(Record):
    """The ad image: inline bytes (base64 in JSON) or a URI from the allow-list, never both."""

    data: Base64Bytes | None = Field(None, description="Encoded image bytes (base64 in JSON)")
    uri: str | None = Field(None, max_length=2048, description="https://, s3://, ... or file: under the configured root")
    content_type: str | None = Field(None, max_length=64, pattern=r"^image/[a-z0-9.+-]+$")

    @field_validator("data")
    @classmethod
    def _cap_bytes(cls, value: bytes | None, info: ValidationInfo) -> bytes | None:
        if value is None:
            return value
        cap = policy_of(info).max_image_bytes
        if len(value) > cap:
            raise PydanticCustomError("image_too_large", "inline image has {size} bytes; the cap is {cap}",
                                      {"size": len(value), "cap": cap})
        if not value:
            raise PydanticCustomError("image_missing", "inline image is empty")
        return value

    @field_validator("uri")
    @classmethod
    def _allowed_uri(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        reason = policy_of(info).check_uri(value)
        if reason:
            raise PydanticCustomError("uri_not_allowed", "{reason}", {"reason": reason})
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> "ImageRef":
        if (self.data is None) == (self.uri is None):
            raise PydanticCustomError("image_missing", "give exactly one of 'data' and 'uri'")
        return self


class AdUploaded(StableEvent):
    """A platform published a new ad. Topic ``ads.uploaded``, key ``ad_id``."""

    ad_id: AdId
    image: ImageRef
    text: CappedText = Field(description="The ad copy S")
    language: str = Field("en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="BCP 47 tag")
    platform: str = Field("unknown", min_length=1, max_length=64)
    uploaded_at: AwareDatetime = Field(default_factory=utc_now)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=32,
                                     description="Free string metadata, at most 32 keys")

    @field_validator("uploaded_at")
    @classmethod
    def _plausible_upload_time(cls, value: datetime, info: ValidationInfo) -> datetime:
        """Refuse times too far ahead or too old: they would distort the latency metrics."""
        policy = policy_of(info)
        if value.tzinfo is None:  # refused by AwareDatetime
            return value
        ahead_s = round((value - utc_now()).total_seconds())
        if policy.max_upload_future_s is not None and ahead_s > policy.max_upload_future_s:
            raise PydanticCustomError("timestamp_out_of_range", "uploaded_at is {seconds} s in the future; the cap "
                                      "is {cap} s", {"seconds": ahead_s, "cap": round(policy.max_upload_future_s)})
        if policy.max_upload_age_s is not None and -ahead_s > policy.max_upload_age_s:
            raise PydanticCustomError("timestamp_out_of_range", "uploaded_at is {seconds} s old; the cap is {cap} s",
                                      {"seconds": -ahead_s, "cap": round(policy.max_upload_age_s)})
        return value

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if len(key) > 64 or len(item) > 1024:
                raise PydanticCustomError("too_long", "metadata keys are capped at 64 and values at 1024 characters")
        return value


class AdHeader(Record):
    """An uploaded ad without its image: what the stages after describe need of the ad."""

    ad_id: AdId
    text: CappedText = Field(description="The ad copy S")
    language: str = Field("en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    platform: str = Field("unknown", min_length=1, max_length=64)
    uploaded_at: AwareDatetime
    metadata: dict[str, str] = Field(default_factory=dict, max_length=32)
    image_uri: str | None = Field(None, max_length=2048,
                                  description="Where the image was fetched from; a record only, never fetched again")

    @classmethod
    def of(cls, ad: AdUploaded) -> "AdHeader":
        return cls(ad_id=ad.ad_id, text=ad.text, language=ad.language, platform=ad.platform,
                   uploaded_at=ad.uploaded_at, metadata=ad.metadata, image_uri=ad.image.uri)


class AdDescribed(Event):
    """The describe stage's output. Topic ``ads.described``.

    ``image`` holds the bytes the describe stage fetched, validated and described; the features
    stage decodes them (nothing after describe fetches anything) and ``description.image.sha256``
    must be their hash.
    """

    ad: AdHeader
    image: Base64Bytes = Field(description="The validated image bytes that were described (base64 in JSON)")
    description: Description
    stage_seconds: dict[str, float] = Field(default_factory=dict, description="Wall seconds per stage so far")

    @field_validator("image")
    @classmethod
    def _cap_image(cls, value: bytes, info: ValidationInfo) -> bytes:
        cap = policy_of(info).max_image_bytes
        if not value or len(value) > cap:
            raise PydanticCustomError("image_too_large" if value else "image_missing",
                                      "described image has {size} bytes; the cap is {cap}", {"size": len(value), "cap": cap})
        return value

    @model_validator(mode="after")
    def _image_is_the_described_one(self) -> "AdDescribed":
        import hashlib

        if hashlib.sha256(self.image).hexdigest() != self.description.image.sha256:
            raise PydanticCustomError("invalid_value", "the image's sha256 differs from description.image.sha256")
        return self


class FeatureTensor(Record):
    """A small dense tensor carried in an event: little-endian bytes, shape and dtype.

    Every dimension is at least 1 and their product times the item size is the length of ``data``.
    """

    dtype: str = Field(pattern=r"^(float16|float32)$")
    shape: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1, max_length=4,
                                                           description="Dimensions, each at least 1")
    data: Base64Bytes = Field(max_length=4 * 1024 * 1024)

    @model_validator(mode="after")
    def _size_matches(self) -> "FeatureTensor":
        itemsize = 2 if self.dtype == "float16" else 4
        count = 1
        for dim in self.shape:
            count *= dim
        if count * itemsize != len(self.data):
            raise PydanticCustomError("invalid_value", "tensor of shape {shape} and dtype {dtype} needs {need} bytes, got {got}",
                                      {"shape": list(self.shape), "dtype": self.dtype, "need": count * itemsize, "got": len(self.data)})
        return self


class AdFeatures(Event):
    """Pooled multi-scale visual features D_1..D_e (Eq. 5-6). Topic ``ads.features``. No image."""

    ad: AdHeader
    description: Description
    encoder: str = Field(description="Backbone name and input size, e.g. 'efficientnet-lite0@224'")
    features: FeatureTensor = Field(description="(e, dim) pooled features, float16")
    stage_seconds: dict[str, float] = Field(default_factory=dict)


class AttributeSentiment(Record):
    """One tagged attribute span and its sentiment."""

    term: str
    segment: SegmentName = Field(description="Where the span was found")
    dimension: Dimension
    start: int = Field(ge=0, description="Character offset in the segment's text")
    end: int = Field(ge=0, description="End offset, exclusive")
    segment_index: int = Field(0, ge=0, description="Which face, for segment == 'face'")
    sentiment: Sentiment
    confidence: Probability


class VisualConcept(Record):
    """An adjective-noun pair (ANP) of the DeepSentiBank vocabulary."""

    anp: str
    score: Probability
    sentiment: Sentiment
    sentiment_score: float = Field(description="The ANP's VSO sentiment value")


class OverallSentiment(Record):
    label: Sentiment
    scores: dict[Sentiment, Probability]


class GeneratedTexts(Record):
    caption: str
    faces: tuple[str, ...] = ()
    ocr: str = ""


class AdSentiment(StableEvent):
    """The result for one ad. Topic ``ads.sentiment``, key ``ad_id``."""

    ad_id: AdId
    model_version: str
    overall: OverallSentiment
    attributes: tuple[AttributeSentiment, ...] = ()
    concepts: tuple[VisualConcept, ...] = Field((), description="Top-V ANPs, best first")
    texts: GeneratedTexts
    uploaded_at: AwareDatetime
    emitted_at: AwareDatetime = Field(default_factory=utc_now)
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    end_to_end_seconds: float = Field(ge=0, description="emitted_at - uploaded_at")
    evidence: Evidence | None = Field(None, description="Optional: face, OCR and region boxes and the per-layer "
                                                        "visual gate, for `adsent explain`; left out when absent")

    @model_serializer(mode="wrap")
    def _leave_out_absent_evidence(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without evidence the event is written exactly as before the field existed."""
        data = handler(self)
        if data.get("evidence", ...) is None:
            del data["evidence"]
        return data


class SourceRef(Record):
    """Where a message was read from."""

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


DEAD_LETTER_AD_ID_MAX = 256
DEAD_LETTER_MESSAGE_MAX = 4096
DEAD_LETTER_EXCEPTION_TYPE_MAX = 256


class DeadLetter(StableEvent):
    """An ad that could not be processed. Topic ``ads.deadletter``; nothing is dropped silently."""

    ad_id: str | None = Field(None, max_length=DEAD_LETTER_AD_ID_MAX, description="The ad id when it could be read")
    stage: StageName
    code: str = Field(max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN, description="Stable error code")
    message: str = Field(max_length=DEAD_LETTER_MESSAGE_MAX)
    exception_type: str = Field(max_length=DEAD_LETTER_EXCEPTION_TYPE_MAX)
    failed_at: datetime = Field(default_factory=utc_now)
    attempts: int = Field(1, ge=1)
    payload: Base64Bytes | None = Field(None, description="The original message value (base64 in JSON)")
    source: SourceRef | None = None
    replays: int = Field(0, ge=0, description="How often this ad had been sent back to this stage by a replay "
                                              "before this failure")
