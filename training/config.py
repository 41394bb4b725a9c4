"""Every knob of a training run (the model's own sizes live in :class:`model.config.ModelConfig`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from model.config import ModelConfig


@dataclass(frozen=True)
class LossWeights:
    """Weights of Eq. 15 plus the overall-sentiment head's term."""

    eta: float = 1.0  # CRF NLL (M_S)
    omega: float = 1.0  # ANP cross-entropy (M_N)
    epsilon: float = 0.3  # text-centred KL (M_{S+N}); paper Fig. 6 optimum
    overall: float = 1.0  # overall-sentiment cross-entropy (not in the paper: its head is ours)
    token: float = 0.0  # per-token tag cross-entropy on the emissions, beside the CRF NLL (the recipe study)
    label_smoothing: float = 0.0  # of the per-token tag and the overall cross-entropies
    sentiment_weighting: str = "none"  # "balanced": per-token B-x/I-x weights by inverse span frequency
    top_v: int | None = 10  # ANPs kept in the teacher target H; None: the whole distribution

    def __post_init__(self) -> None:
        if self.sentiment_weighting not in ("none", "balanced"):
            raise ValueError(f"sentiment_weighting must be 'none' or 'balanced', not {self.sentiment_weighting!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), not {self.label_smoothing}")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 5
    batch_size: int = 16
    eval_batch_size: int = 32
    lr_pretrained: float = 1e-4  # the text encoder (the recipe study: 1e-4 beat 5e-5 on dev, README)
    lr_new: float = 1e-3  # prefixes, heads, CRF
    lr_layer_decay: float = 1.0  # encoder layer l of L learns at lr_pretrained * decay ** (L - 1 - l)
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1  # of all optimizer steps, then linear decay to 0
    max_grad_norm: float = 1.0
    seed: int = 13
    deterministic: bool = False  # CPU: deterministic algorithms, one thread -> identical losses
    patience: int = 3  # epochs without a better dev JMASA F1 before stopping
    freeze_layers: int = 0  # lowest encoder layers (and the embeddings, when > 0) kept frozen
    text_only: bool = False  # train the S view only (no images, no N_z)
    max_examples: int | None = None  # cap of training examples (quick runs)
    max_eval_examples: int | None = None
    loss: LossWeights = LossWeights()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {sorted(unknown)}")
        values = dict(data)
        if "loss" in values:
            values["loss"] = LossWeights(**values["loss"])
        return cls(**values)

    def with_loss(self, **weights: Any) -> "TrainConfig":
        return replace(self, loss=replace(self.loss, **weights))


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied recursively (dicts merge, other values replace)."""
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged


def load_config_file(path: Path | None, model: ModelConfig, train: TrainConfig) -> tuple[ModelConfig, TrainConfig]:
    """Apply a JSON file ``{"preset": "tiny"|"offline", "model": {...}, "train": {...}}`` of overrides.

    ``preset`` picks the starting :class:`ModelConfig` (``tiny``: the random 2-layer test model);
    ``model`` and ``train`` override fields (nested dicts merge).
    """
    if path is None:
        return model, train
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    unknown = set(data) - {"preset", "model", "train"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)} (use preset, model, train)")
    preset = data.get("preset")
    if preset == "tiny":
        model = ModelConfig.tiny()
    elif preset not in (None, "offline"):
        raise ValueError(f"{path}: preset must be 'tiny' or 'offline', not {preset!r}")
    model = ModelConfig.from_dict(merge(model.to_dict(), data.get("model", {})))
    train = TrainConfig.from_dict(merge(train.to_dict(), data.get("train", {})))
    return model, train
