"""The optional evidence block of an ``AdSentiment``: where a result came from, in a few hundred bytes.

It feeds ``adsent explain`` for results read back from the topic or a JSON-lines file. Boxes are
whole pixels of the upright image the describe stage saw (``width`` x ``height``). ``regions``
are the top-C regions the features stage encoded, in encoding order, and ``gate`` is the classify
model's per-layer visual gate beta (Eq. 9-10) over the ``e = (1 + len(regions)) * sum(g * g)``
vectors D_u in the same order: crop by crop (the whole image, then each region), and within a
crop grid by grid of ``grids`` (the 1x1 vector, then the g x g cells row by row).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.base import Record
from schemas.description import Expression, Gender

EVIDENCE_LIST_MAX = 64  # hard cap of every list; the classify model writes fewer (model.evidence)
GATE_LAYERS_MAX = 64
GATE_VECTORS_MAX = 1024

PixelBox = Annotated[tuple[int, int, int, int],
                     Field(description="x0, y0, x1, y1 in whole pixels of the upright image")]
Percent = Annotated[int, Field(ge=0, le=100)]
RegionSource = Literal["detector", "face", "text", "saliency", "whole"]


class FaceEvidence(Record):
    """One detected face: its box and the attributes that were estimated (None: switched off)."""

    box: PixelBox
    expression: Expression | None = None
    age: int | None = Field(None, ge=0, le=120, description="Estimated age in whole years")
    gender: Gender | None = None
    pose: tuple[int, int, int] | None = Field(None, description="Head yaw, pitch and roll in whole degrees")


class RegionEvidence(Record):
    """One of the top-C regions the features stage encoded."""

    box: PixelBox
    label: str = Field(max_length=64)
    source: RegionSource


class GateSummary(Record):
    """The per-layer visual gate beta_u^m in percent, one row per encoder layer.

    In each row the whole-image vectors sum to about 100, and so do the region vectors (Eq. 10
    gates them separately).
    """

    grids: tuple[Annotated[int, Field(ge=1, le=16)], ...] = Field(
        min_length=1, max_length=8, description="Pooling grids of every crop, e.g. [1, 2]")
    weights: tuple[tuple[Percent, ...], ...] = Field(min_length=1, max_length=GATE_LAYERS_MAX,
                                                     description="(layers, vectors) gate weights in percent")

    @property
    def vectors_per_crop(self) -> int:
        return sum(g * g for g in self.grids)

    @model_validator(mode="after")
    def _rectangular(self) -> "GateSummary":
        width = len(self.weights[0])
        if not 0 < width <= GATE_VECTORS_MAX or any(len(row) != width for row in self.weights):
            raise PydanticCustomError("invalid_value", "gate rows must all have the same length, 1 to {cap}",
                                      {"cap": GATE_VECTORS_MAX})
        if width % self.vectors_per_crop:
            raise PydanticCustomError("invalid_value", "gate rows of {width} vectors do not split into crops of {per}",
                                      {"width": width, "per": self.vectors_per_crop})
        return self


class Evidence(Record):
    """Face, OCR and region boxes and the visual gate of one result (``AdSentiment.evidence``).

    ``ocr_boxes[i]`` is the box of line ``i`` of ``texts.ocr`` (its newline-separated lines);
    ``faces[i]`` is the face whose sentence is ``texts.faces[i]``.
    """

    width: int = Field(gt=0, description="Width of the described (upright) image in pixels")
    height: int = Field(gt=0, description="Height of the described (upright) image in pixels")
    faces: tuple[FaceEvidence, ...] = Field((), max_length=EVIDENCE_LIST_MAX)
    ocr_boxes: tuple[PixelBox, ...] = Field((), max_length=EVIDENCE_LIST_MAX, description="One box per OCR line")
    regions: tuple[RegionEvidence, ...] = Field((), max_length=EVIDENCE_LIST_MAX,
                                                description="The encoded top-C regions, in encoding order")
    gate: GateSummary | None = Field(None, description="None: the model has no visual prefixes")

    @model_validator(mode="after")
    def _gate_matches_regions(self) -> "Evidence":
        if self.gate is not None:
            crops = len(self.gate.weights[0]) // self.gate.vectors_per_crop
            if crops != 1 + len(self.regions):
                raise PydanticCustomError("invalid_value", "the gate covers {crops} crops; the whole image and "
                                          "{regions} regions make {want}",
                                          {"crops": crops, "regions": len(self.regions), "want": 1 + len(self.regions)})
        return self
