"""The describe stage: images -> :class:`schemas.Description` (paper Section 2.1)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from PIL import Image

from model.describe.caption import Captioner, Seen, build_captioner
from model.describe.compose import compose
from model.describe.config import DescribeConfig
from model.describe.faces import FaceAnalyzer
from model.describe.imagenet import ImageNetClassifier
from model.describe.intake import LoadedImage, load_image
from model.describe.ocr import OcrEngine, build_ocr
from model.describe.regions import YoloRegions, offline_regions
from schemas.description import Description

log = logging.getLogger(__name__)


class Describer:
    """Loads every model once (lazily, on first use) and describes batches of images deterministically."""

    def __init__(self, config: DescribeConfig | None = None) -> None:
        self.config = config or DescribeConfig()
        # CPU seconds spent in each step since this describer was built (wall seconds are in every
        # Description's timings); the bench reads both instead of re-running the steps itself
        self.cpu_seconds: dict[str, float] = {}

    def _charge(self, step: str, seconds: float) -> None:
        self.cpu_seconds[step] = self.cpu_seconds.get(step, 0.0) + seconds

    @cached_property
    def ocr(self) -> OcrEngine:
        return build_ocr(self.config)

    @cached_property
    def faces(self) -> FaceAnalyzer:
        return FaceAnalyzer(self.config)

    @cached_property
    def classifier(self) -> ImageNetClassifier:
        return ImageNetClassifier(self.config)

    @cached_property
    def captioner(self) -> Captioner:
        return build_captioner(self.config)

    @cached_property
    def detector(self) -> YoloRegions | None:
        return YoloRegions(self.config, self.config.detector_weights) if self.config.detector_weights else None

    def warm_up(self) -> None:
        """Load every model now (a worker calls this at start)."""
        for attribute in ("ocr", "faces", "classifier", "captioner", "detector"):
            getattr(self, attribute)

    def describe(self, images: Sequence[LoadedImage | bytes | Path]) -> list[Description]:
        """One :class:`Description` per image, in order. Raises ``ImageError`` for undecodable input."""
        timings: list[dict[str, float]] = [{} for _ in images]
        loaded: list[LoadedImage] = []
        for i, item in enumerate(images):
            start, cpu = time.perf_counter(), time.process_time()
            loaded.append(item if isinstance(item, LoadedImage) else load_image(item, self.config))
            timings[i]["decode"] = time.perf_counter() - start
            self._charge("decode", time.process_time() - cpu)
        if not loaded:
            return []
        pictures: list[Image.Image] = [item.image for item in loaded]

        def per_image(step: str, fn):  # run fn(i) per image, timing each
            out = []
            for i in range(len(pictures)):
                start, cpu = time.perf_counter(), time.process_time()
                out.append(fn(i))
                timings[i][step] = time.perf_counter() - start
                self._charge(step, time.process_time() - cpu)
            return out

        def batched(step: str, fn):  # run fn on the batch, sharing its time equally
            start, cpu = time.perf_counter(), time.process_time()
            out = fn()
            share = (time.perf_counter() - start) / len(pictures)
            for t in timings:
                t[step] = share
            self._charge(step, time.process_time() - cpu)
            return out

        ocr = per_image("ocr", lambda i: self.ocr.read(pictures[i]))
        faces = per_image("faces", lambda i: tuple(self.faces.analyze(pictures[i])))
        labels = batched("classify", lambda: self.classifier.top(pictures))
        seen = [Seen(faces=f, ocr=o, labels=tuple(l)) for f, o, l in zip(faces, ocr, labels)]
        captions = batched("caption", lambda: self.captioner.caption(pictures, seen))
        if self.detector is not None:
            regions = batched("regions", lambda: self.detector.regions(pictures))
        else:
            regions = per_image("regions", lambda i: offline_regions(pictures[i], seen[i].faces, seen[i].ocr, self.config))
        out: list[Description] = []
        for i, item in enumerate(loaded):
            start, cpu = time.perf_counter(), time.process_time()
            context, segments = compose(captions[i], faces[i], ocr[i], self.config.sep)
            timings[i]["compose"] = time.perf_counter() - start
            self._charge("compose", time.process_time() - cpu)
            timings[i]["total"] = sum(timings[i].values())
            out.append(Description(image=item.info, caption=captions[i], faces=faces[i], ocr=ocr[i],
                                   regions=tuple(regions[i]), visual_context=context, segments=segments,
                                   timings={k: round(v, 6) for k, v in timings[i].items()}))
        return out
