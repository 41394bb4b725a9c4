"""What the describe stage sees in an ad image (paper Section 2.1, Eq. 1-3).

``visual_context`` is the composed ``N_z = Z [SEP] F [SEP] P [SEP]``; ``segments`` keep the
character offsets of every part so a span found later can be traced back to its source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Box, Probability, Record

Expression = Literal["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
Gender = Literal["female", "male", "unknown"]


class HeadPose(Record):
    """Head orientation in degrees, estimated from facial landmarks."""

    yaw: float = Field(description="Left/right turn; positive = the person's left")
    pitch: float = Field(description="Up/down tilt; positive = looking up")
    roll: float = Field(description="In-plane rotation")


class Face(Record):
    """One detected face and its attributes (local level, Eq. 2)."""

    box: Box
    confidence: Probability = Field(description="Detector probability")
    expression: Expression | None = Field(None, description="None: not estimated (ADSENT_FACE_EXPRESSION=false)")
    expression_score: Probability | None = None
    age: float | None = Field(None, ge=0, le=120, description="Estimated age in years")
    gender: Gender | None = Field("unknown", description="None: not estimated (ADSENT_FACE_GENDER=false)")
    gender_score: Probability | None = None
    pose: HeadPose | None = None
    text: str = Field(description="The face as a short sentence, as joined into N_z")


class OcrWord(Record):
    text: str
    box: Box
    confidence: Probability


class OcrLine(Record):
    text: str
    box: Box
    confidence: Probability
    words: tuple[OcrWord, ...] = ()


class OcrResult(Record):
    """Text read from the image (character level, Eq. 3)."""

    engine: str = Field(description="OCR engine and variant, e.g. 'tesseract-5.3'")
    text: str = Field(description="The lines joined with newlines, in reading order")
    lines: tuple[OcrLine, ...] = ()


class Region(Record):
    """One of the top-C regions handed to the visual encoder (Section 2.2a)."""

    box: Box
    score: Probability
    label: str
    source: Literal["detector", "face", "text", "saliency", "whole"]


class Segment(Record):
    """Where one generated text sits inside ``visual_context`` (end exclusive)."""

    name: Literal["caption", "face", "ocr"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    index: int = Field(0, ge=0, description="Which face, for name == 'face'")


class ImageInfo(Record):
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    format: str = Field(description="Decoded container format, e.g. 'JPEG'")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Description(Record):
    """The describe stage's output for one image."""

    image: ImageInfo
    caption: str = Field(description="Global level Z (Eq. 1)")
    faces: tuple[Face, ...] = Field((), description="Local level F, by descending confidence")
    ocr: OcrResult
    regions: tuple[Region, ...] = ()
    visual_context: str = Field(description="N_z = Z [SEP] F [SEP] P [SEP]")
    segments: tuple[Segment, ...] = ()
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per step")
