"""Which model an entry point serves: one rule for the worker, ``adsent predict`` and the bench.

An explicit checkpoint (``--checkpoint``), else the configured one (``ADSENT_CHECKPOINT_DIR``),
else the trained starter model (``<state dir>/starter-model``). With none of them the entry point
refuses with a message that says how to get one, unless untrained heads are asked for explicitly
(``--untrained`` or ``ADSENT_ALLOW_UNTRAINED_MODEL``): the offline default backbones with
untrained heads produce well-formed but meaningless results.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from schemas.settings import Settings

log = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No trained model is configured or available; the message says how to get one."""


def checkpoint_source(settings: Settings, checkpoint: Path | None = None, untrained: bool = False) -> Path | None:
    """The checkpoint to serve: ``checkpoint``, else (unless ``untrained`` heads are asked for)
    ADSENT_CHECKPOINT_DIR, else the starter model when trained."""
    if checkpoint is not None:
        return checkpoint
    if untrained:
        return None
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


def _require_untrained_allowed(settings: Settings, untrained: bool) -> None:
    if not (untrained or settings.allow_untrained_model):
        raise NoModelError(
            f"no trained model: pass --checkpoint DIR, set ADSENT_CHECKPOINT_DIR, or train the starter model "
            f"into {settings.starter_model_dir} with `adsent train --starter`; --untrained (or "
            "ADSENT_ALLOW_UNTRAINED_MODEL=true) serves untrained heads, for smoke tests only")
    log.warning("serving the offline default with UNTRAINED heads: its tags are not meaningful")


def resolve_checkpoint(settings: Settings, checkpoint: Path | None = None, untrained: bool = False) -> Path | None:
    """The checkpoint to load, or None for untrained heads (when allowed; else NoModelError)."""
    source = checkpoint_source(settings, checkpoint, untrained)
    if source is None:
        _require_untrained_allowed(settings, untrained)
    return source


def load_sentiment_model(settings: Settings, checkpoint: Path | None = None, untrained: bool = False) -> Any:
    """The classify stage's model (:func:`checkpoint_source`; untrained heads only when asked for)."""
    from model.predict import AdSentimentModel

    device = settings.model_device
    source = resolve_checkpoint(settings, checkpoint, untrained)
    if source is not None:
        log.info("serving checkpoint %s", source)
        model = AdSentimentModel.from_pretrained(source, device=device)
    else:
        model = AdSentimentModel.from_config(untrained_config(settings), device=device)
    model.evidence = settings.result_evidence
    return model


def load_feature_extractor(settings: Settings, checkpoint: Path | None = None, untrained: bool = False) -> Any:
    """The features stage's encoder, configured like the served checkpoint (no text encoder loaded)."""
    from model.checkpoint import load_config
    from model.vision import FeatureExtractor

    source = resolve_checkpoint(settings, checkpoint, untrained)
    if source is not None:
        return FeatureExtractor(load_config(source), device=settings.model_device)
    return FeatureExtractor(untrained_config(settings), device=settings.model_device)


def serving_describer_config(settings: Settings, checkpoint: Path | None = None, untrained: bool = False) -> Any:
    """The describe configuration to serve with: the resolved checkpoint's record (train/serve
    parity, :mod:`model.describe.parity`), runtime fields from the settings."""
    from model.describe.parity import serving_describe_config

    return serving_describe_config(settings, checkpoint_source(settings, checkpoint, untrained))
