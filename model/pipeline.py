"""The pipeline's three steps as typed batch functions: describe, encode, classify.

The stream stages (``streams.service.stages``), ``AdSentimentModel.predict``, the training feature cache
(``training.features``) and the bench all run an ad through these, so an image is read the same
way in training and in serving (``tests/training/test_serve_parity.py``). Which stages exist, and
the topics between them, is defined once in :mod:`schemas.pipeline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model.describe.intake import LoadedImage, load_image
from model.fusion.inputs import TextBatch, ViewTokenizer
from model.fusion.network import VisualBatch
from schemas.description import Description

if TYPE_CHECKING:
    from PIL import Image

    from model.describe import Describer
    from model.predict import AdSentimentModel
    from model.vision import FeatureExtractor
    from schemas.events import AdFeatures, AdSentiment


@dataclass(frozen=True)
class Described:
    """One image as decoded (upright RGB) and what the describe step found in it."""

    loaded: LoadedImage
    description: Description


def describe(describer: Describer, images: Sequence[LoadedImage | bytes | Path]) -> list[Described]:
    """Decode (bytes and paths; intake rules of the describer's config) and describe every image."""
    loaded = [item if isinstance(item, LoadedImage) else load_image(item, describer.config) for item in images]
    return [Described(item, description) for item, description in zip(loaded, describer.describe(loaded))]


def encode(extractor: FeatureExtractor, images: Sequence[Image.Image],
           descriptions: Sequence[Description]) -> list[np.ndarray]:
    """The pooled multi-scale features D_1..D_e ``(e, dim)`` of every image and its top regions."""
    return extractor.extract(list(images), list(descriptions))


def classify_inputs(views: ViewTokenizer, copies: Sequence[str], contexts: Sequence[str],
                    features: Sequence[np.ndarray | None], feature_dim: int) -> tuple[TextBatch, VisualBatch]:
    """The S+N input of the classify step: ``[CLS] S [SEP] N_z [SEP]`` token ids and the padded
    visual vectors. Serving (``AdSentimentModel``), training and evaluation (``training.batches``)
    build it here, the one way."""
    return views.encode_fused(list(copies), list(contexts)), VisualBatch.padded(features, feature_dim)


def classify(model: AdSentimentModel, events: Sequence[AdFeatures], max_padding: float | None = None
             ) -> list[AdSentiment]:
    """The attribute and overall sentiment of every ad from its copy, N_z and features."""
    return model.classify(list(events)) if max_padding is None else model.classify(list(events), max_padding)
