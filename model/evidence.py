"""The evidence block of a result (``schemas.evidence``): boxes of the description and the visual gate.

The classify step writes it from what it already has: the ad's ``Description`` and the gate
``(L, e)`` of its forward pass. Sizes are capped here so the block stays a few hundred bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from model.config import VisionConfig
from model.vision import top_regions
from schemas.base import Box
from schemas.description import Description, Face
from schemas.evidence import Evidence, FaceEvidence, GateSummary, RegionEvidence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidenceLimits:
    """How much of a description goes into the block (the rest is left out, in order)."""

    max_faces: int = 16
    max_ocr_lines: int = 32


def pixel_box(box: Box) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return round(x0), round(y0), round(x1), round(y1)


def face_evidence(face: Face) -> FaceEvidence:
    pose = face.pose
    return FaceEvidence(box=pixel_box(face.box), expression=face.expression,
                        age=None if face.age is None else round(face.age), gender=face.gender,
                        pose=None if pose is None else (round(pose.yaw), round(pose.pitch), round(pose.roll)))


def gate_summary(gate: np.ndarray, grids: tuple[int, ...]) -> GateSummary:
    """An ``(L, e)`` gate as whole percents."""
    percent = np.clip(np.rint(np.asarray(gate, np.float32) * 100), 0, 100).astype(int)
    return GateSummary(grids=tuple(grids), weights=tuple(tuple(int(v) for v in row) for row in percent))


def build_evidence(description: Description, vision: VisionConfig, vectors: int, gate: np.ndarray | None,
                   limits: EvidenceLimits = EvidenceLimits()) -> Evidence:
    """The block of one ad: ``vectors`` is its count of visual vectors e, ``gate`` its ``(L, >= e)`` gate."""
    per_crop = vision.tokens_per_crop
    crops = vectors // per_crop
    regions = top_regions(description.regions, max(crops - 1, 0))
    summary = None
    if gate is not None:
        if vectors % per_crop or len(regions) != crops - 1:
            log.warning("ad with %d visual vectors and %d regions: gate left out of the evidence", vectors,
                        len(description.regions))
            regions = top_regions(description.regions, vision.top_regions)
        else:
            summary = gate_summary(gate[:, :vectors], vision.pool_grids)
    return Evidence(
        width=description.image.width, height=description.image.height,
        faces=tuple(face_evidence(f) for f in description.faces[:limits.max_faces]),
        ocr_boxes=tuple(pixel_box(line.box) for line in description.ocr.lines[:limits.max_ocr_lines]),
        regions=tuple(RegionEvidence(box=pixel_box(r.box), label=r.label[:64], source=r.source) for r in regions),
        gate=summary,
    )
