"""Describe + feature-extract every image once, cached on disk by content and config.

Layout under ``root``::

    descriptions/<describe key>/<image sha256>.json             the Description (JSON)
    features/<describe key>-<vision key>/<image sha256>.npy     the (e, dim) float16 features

The describe key hashes the :class:`DescribeConfig` (minus the device); the vision key hashes the
:class:`VisionConfig` and the preprocessing version. A changed config gets a fresh folder, so a
cache entry never means something else. Entries are written atomically (temp file + rename).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from model.config import PREPROCESSING_VERSION, VisionConfig
from schemas.description import Description

log = logging.getLogger(__name__)


def config_key(values: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able config."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


def describe_key(config: Any) -> str:
    """Cache key of descriptions: the describe configuration's content fields (intake limits and
    runtime fields such as the device do not change a description)."""
    from model.describe.parity import describe_record

    return config_key(describe_record(config))


def vision_key(config: VisionConfig) -> str:
    return config_key({"vision": asdict(config), "preprocessing": PREPROCESSING_VERSION})


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class ImageFeatures:
    """What the fused model needs of one image."""

    description: Description
    features: np.ndarray  # (e, dim) float16


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class FeatureCache:
    """Descriptions and visual features of image files, computed once per (content, config)."""

    def __init__(self, root: Path, describe_config: Any, vision: VisionConfig, device: str | None = None,
                 batch_size: int = 8) -> None:
        self.root = Path(root)
        self.describe_config = describe_config
        self.vision = vision
        self.device = device
        self.batch_size = batch_size
        self.description_dir = self.root / "descriptions" / describe_key(describe_config)
        self.feature_dir = self.root / "features" / f"{describe_key(describe_config)}-{vision_key(vision)}"
        self._describer: Any = None
        self._extractor: Any = None

    def _paths(self, digest: str) -> tuple[Path, Path]:
        return self.description_dir / f"{digest}.json", self.feature_dir / f"{digest}.npy"

    def _models(self) -> tuple[Any, Any]:
        if self._describer is None:
            from model.describe import Describer
            from model.vision import FeatureExtractor

            self._describer = Describer(self.describe_config)
            self._extractor = FeatureExtractor(self.vision, self.device)
        return self._describer, self._extractor

    def get(self, paths: Sequence[Path], progress: bool = True) -> list[ImageFeatures]:
        """Features of every image, computing (in batches) only those not cached yet."""
        digests = [file_sha256(p) for p in paths]
        todo = sorted({d: p for d, p in zip(digests, paths) if not all(x.is_file() for x in self._paths(d))}.items())
        if todo:
            log.info("describing and encoding %d images (%d cached) into %s", len(todo),
                     len(set(digests)) - len(todo), self.root)
            bar = tqdm(total=len(todo), desc="describe+features", unit="img", disable=not progress)
            for first in range(0, len(todo), self.batch_size):
                self._compute(todo[first:first + self.batch_size])
                bar.update(len(todo[first:first + self.batch_size]))
            bar.close()
        return [self._load(d) for d in digests]

    def _compute(self, items: list[tuple[str, Path]]) -> None:
        from model.pipeline import describe, encode

        describer, extractor = self._models()
        described = describe(describer, [path for _, path in items])
        descriptions = [item.description for item in described]
        arrays = encode(extractor, [item.loaded.image for item in described], descriptions)
        for (digest, _), description, array in zip(items, descriptions, arrays):
            text_path, array_path = self._paths(digest)
            _atomic_write(text_path, description.model_dump_json().encode())
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array, dtype=np.float16))
            _atomic_write(array_path, buffer.getvalue())

    def _load(self, digest: str) -> ImageFeatures:
        text_path, array_path = self._paths(digest)
        description = Description.model_validate_json(text_path.read_text(encoding="utf-8"))
        return ImageFeatures(description, np.load(array_path, allow_pickle=False))
