"""The top-C regions for the visual encoder (Section 2.2a).

With YOLO weights configured, ultralytics detections; otherwise faces, text lines and salient
crops (grid cells with the most edge energy), each with a score in 0..1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from model.describe.config import DescribeConfig
from schemas.description import Face, OcrResult, Region


def salient_crops(image: Image.Image, config: DescribeConfig) -> list[Region]:
    """Grid cells scored by their share of the image's gradient energy (the busiest cells first)."""
    side, n = config.saliency_side, config.saliency_grid
    grey = np.asarray(image.convert("L").resize((side, side), Image.BILINEAR), dtype=np.float32) / 255.0
    gy, gx = np.gradient(grey)
    energy = np.hypot(gx, gy)
    total = float(energy.sum()) or 1.0
    regions = []
    for row in range(n):
        for col in range(n):
            cell = energy[row * side // n:(row + 1) * side // n, col * side // n:(col + 1) * side // n]
            score = min(1.0, float(cell.sum()) / total)  # the cell's share of the image's edge energy
            box = (col * image.width / n, row * image.height / n, (col + 1) * image.width / n, (row + 1) * image.height / n)
            regions.append(Region(box=box, score=round(score, 4), label="salient", source="saliency"))
    return regions


def offline_regions(image: Image.Image, faces: tuple[Face, ...], ocr: OcrResult, config: DescribeConfig) -> list[Region]:
    found = [Region(box=f.box, score=f.confidence, label="face", source="face") for f in faces]
    found += [Region(box=l.box, score=l.confidence, label="text", source="text") for l in ocr.lines]
    found += salient_crops(image, config)
    found.sort(key=lambda r: -r.score)
    return found[: config.top_c]


class YoloRegions:
    """Detections of an ultralytics YOLO model (weights path or yaml), most confident first."""

    def __init__(self, config: DescribeConfig, weights: Path | str) -> None:
        from ultralytics import YOLO

        self.config = config
        self._model = YOLO(str(weights))

    def regions(self, images: list[Image.Image]) -> list[list[Region]]:
        results = self._model.predict(images, imgsz=self.config.detector_image_size, conf=self.config.detector_min_confidence,
                                      device=self.config.device, verbose=False)
        out = []
        for result in results:
            names = result.names
            boxes = result.boxes
            found = [Region(box=tuple(float(v) for v in xyxy), score=float(min(max(conf, 0.0), 1.0)),
                            label=str(names[int(cls)]), source="detector")
                     for xyxy, conf, cls in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist())]
            found.sort(key=lambda r: -r.score)
            out.append(found[: self.config.top_c])
        return out
