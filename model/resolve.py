"""Which models a worker serves: the configured checkpoint, else the starter model.

With neither, a worker refuses to start unless ``ADSENT_ALLOW_UNTRAINED_MODEL`` is set: the
offline default backbones with untrained heads produce well-formed but meaningless results.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from schemas.settings import Settings

log = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No trained model is configured or available; the message says how to get one."""


def checkpoint_source(settings: Settings) -> Path | None:
    """The checkpoint a worker serves: ADSENT_CHECKPOINT_DIR, else the starter model when trained."""
    if settings.checkpoint_dir is not None:
        return settings.checkpoint_dir
    if (settings.starter_model_dir / "config.json").exists():
        return settings.starter_model_dir
    return None


def untrained_config(settings: Settings) -> Any:
    from model.config import ModelConfig

    config = ModelConfig.offline_default()
    if settings.text_encoder or settings.vision_backbone != config.vision.backbone:
        config = config.with_backbones(settings.text_encoder or config.text.encoder, settings.vision_backbone)
    return config


def _require_untrained_allowed(settings: Settings) -> None:
    if not settings.allow_untrained_model:
        raise NoModelError(
            f"no trained model: set ADSENT_CHECKPOINT_DIR, or train the starter model into "
            f"{settings.starter_model_dir} with `adsent train --starter`; ADSENT_ALLOW_UNTRAINED_MODEL=true "
            "serves untrained heads (for smoke tests only)")
    log.warning("serving the offline default with UNTRAINED heads (ADSENT_ALLOW_UNTRAINED_MODEL is set)")


def load_sentiment_model(settings: Settings) -> Any:
    """The classify stage's model."""
    from model.predict import AdSentimentModel

    source = checkpoint_source(settings)
    if source is not None:
        log.info("serving checkpoint %s", source)
        return AdSentimentModel.from_pretrained(source, device=settings.model_device)
    _require_untrained_allowed(settings)
    return AdSentimentModel.from_config(untrained_config(settings), device=settings.model_device)


def load_feature_extractor(settings: Settings) -> Any:
    """The features stage's encoder, configured like the served checkpoint (no text encoder loaded)."""
    from model.checkpoint import load_config
    from model.vision import FeatureExtractor

    source = checkpoint_source(settings)
    if source is not None:
        return FeatureExtractor(load_config(source), device=settings.model_device)
    _require_untrained_allowed(settings)
    return FeatureExtractor(untrained_config(settings), device=settings.model_device)
