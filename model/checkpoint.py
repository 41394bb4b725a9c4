"""Checkpoints that rebuild themselves: weights, config, label maps, tokenizer, preprocessing version.

Layout of a checkpoint directory::

    model.safetensors        the fusion network's weights (text encoder, prefixes, heads, CRF)
    config.json              format and preprocessing versions, ModelConfig, model version
    labels.json              CRF tags, overall labels, ANP vocabulary size and sha256
    text_encoder/config.json the encoder architecture (rebuilt without its original weights)
    tokenizer/               the tokenizer files
    calibration.json         the fitted confidence temperatures (absent: uncalibrated, 1 and 1)

Loading reads JSON and safetensors only (nothing is unpickled) and refuses a checkpoint whose
format or preprocessing version, or label maps, differ from this code's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from model.anp import load_anp_vocabulary
from model.config import PREPROCESSING_VERSION, ModelConfig
from model.fusion.calibration import Temperatures, load_temperatures, save_temperatures
from model.fusion.errors import ModelError, ModelErrorCode
from model.fusion.network import FusionNetwork
from model.labels import OVERALL_LABELS, TAGS

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
LABELS = "labels.json"
ENCODER_DIR = "text_encoder"
TOKENIZER_DIR = "tokenizer"


@dataclass
class Loaded:
    config: ModelConfig
    network: FusionNetwork
    tokenizer: PreTrainedTokenizerBase
    model_version: str


def label_maps() -> dict[str, object]:
    vocabulary = load_anp_vocabulary()
    return {"tags": list(TAGS), "overall": list(OVERALL_LABELS), "anp_count": len(vocabulary),
            "anp_sha256": vocabulary.sha256}


def save_checkpoint(directory: str | Path, network: FusionNetwork, tokenizer: PreTrainedTokenizerBase,
                    model_version: str) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in network.state_dict().items()}
    save_file(state, str(directory / WEIGHTS), metadata={"format": "pt"})
    meta = {"format_version": FORMAT_VERSION, "preprocessing_version": network.config.preprocessing_version,
            "model_version": model_version, "transformers_version": transformers.__version__,
            "model": network.config.to_dict()}
    (directory / CONFIG).write_text(json.dumps(meta, indent=2))
    (directory / LABELS).write_text(json.dumps(label_maps(), indent=2))
    network.text.encoder.config.save_pretrained(directory / ENCODER_DIR)
    tokenizer.save_pretrained(directory / TOKENIZER_DIR)
    if network.temperatures != Temperatures():
        save_temperatures(directory, network.temperatures)
    return directory


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ModelError(ModelErrorCode.CHECKPOINT_MISSING, f"{path} is missing: not an adsent checkpoint")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(ModelErrorCode.CHECKPOINT_INVALID, f"{path}: {exc}") from exc


def load_config(directory: str | Path) -> ModelConfig:
    """The model config of a checkpoint, after its format and preprocessing versions are checked.

    Reads JSON only: the features stage needs the vision config without loading the text encoder.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError(ModelErrorCode.CHECKPOINT_MISSING, f"checkpoint directory {directory} does not exist")
    meta = _read_json(directory / CONFIG)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(ModelErrorCode.CHECKPOINT_VERSION,
                         f"{directory} has checkpoint format {meta.get('format_version')}; this adsent reads "
                         f"format {FORMAT_VERSION}")
    if meta.get("preprocessing_version") != PREPROCESSING_VERSION:
        raise ModelError(ModelErrorCode.CHECKPOINT_VERSION,
                         f"{directory} was trained with preprocessing version {meta.get('preprocessing_version')}; "
                         f"this adsent preprocesses with version {PREPROCESSING_VERSION}: retrain or use a "
                         "matching adsent release")
    return ModelConfig.from_dict(meta["model"])


def load_checkpoint(directory: str | Path) -> Loaded:
    directory = Path(directory)
    config = load_config(directory)
    meta = _read_json(directory / CONFIG)
    labels = _read_json(directory / LABELS)
    if labels != label_maps():
        raise ModelError(ModelErrorCode.CHECKPOINT_INVALID,
                         f"{directory} label maps differ from this code's: {labels} vs {label_maps()}")
    encoder = AutoModel.from_config(AutoConfig.from_pretrained(directory / ENCODER_DIR), add_pooling_layer=False)
    network = FusionNetwork(config, encoder)
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise ModelError(ModelErrorCode.CHECKPOINT_MISSING, f"{weights} is missing")
    try:
        network.load_state_dict(load_file(str(weights)), strict=True)
    except RuntimeError as exc:
        raise ModelError(ModelErrorCode.CHECKPOINT_INVALID, f"{weights} does not fit its config: {exc}") from exc
    network.temperatures = load_temperatures(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory / TOKENIZER_DIR)
    return Loaded(config=config, network=network.eval(), tokenizer=tokenizer, model_version=meta["model_version"])
