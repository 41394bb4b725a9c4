"""Typed errors of the fused model, each with a stable code (dead letters and dashboards key on it)."""

from __future__ import annotations

from enum import Enum


class ModelErrorCode(str, Enum):
    """Stable codes: never rename one."""

    CHECKPOINT_MISSING = "checkpoint_missing"
    CHECKPOINT_VERSION = "checkpoint_version"
    CHECKPOINT_INVALID = "checkpoint_invalid"
    FEATURES_MISMATCH = "features_mismatch"
    INPUT_TOO_LONG = "input_too_long"
    BACKBONE_UNAVAILABLE = "backbone_unavailable"
    BAD_INPUT = "bad_input"


class ModelError(ValueError):
    """Bad input to, or a bad checkpoint of, the fused model."""

    def __init__(self, code: ModelErrorCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"[{code.value}] {message}")
