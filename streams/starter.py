"""Which sentiment model a worker serves when no checkpoint is configured."""

from __future__ import annotations

import logging
from typing import Any

from schemas.settings import Settings

log = logging.getLogger(__name__)

def starter_model(settings: Settings) -> Any:
    """The starter model when it was trained, else the offline default with untrained heads."""
    from model.predict import AdSentimentModel

    directory = settings.starter_model_dir
    if (directory / "config.json").exists():
        return AdSentimentModel.from_pretrained(directory, device=settings.model_device)
    log.warning("no checkpoint configured and no starter model at %s: serving the offline default with "
                "UNTRAINED heads (train one with `adsent train --starter`)", directory)
    from model.config import ModelConfig

    return AdSentimentModel.from_config(ModelConfig.offline_default(), device=settings.model_device)
