"""The fused network: text encoder + visual prefixes + CRF, ANP and overall heads (Eq. 4, 7, 9-12).

One set of weights serves both views of Eq. 13::

    out_s  = net(text_only)            # S: no N_z, no prefix, no ANP logits
    out_sn = net(fused, visual)        # S+N: N_z in the text, visual prefixes in every layer
    kl = ... out_sn.marginals[:, :n] vs out_s.marginals[:, :n]   # first n tokens align (copy_mask)

Training calls the same module twice; nothing is duplicated, so the gradients of both views land
on the same parameters (the trainer chooses which view's loss flows where).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel

from model.config import ModelConfig
from model.fusion.calibration import Temperatures
from model.fusion.crf import BioCrf
from model.fusion.encoder import PrefixEncoder
from model.fusion.inputs import TextBatch
from model.fusion.prefix import VisualPrefix
from model.fusion.softmax_tagger import SoftmaxTagger
from model.labels import OVERALL_LABELS, TAGS


@dataclass
class VisualBatch:
    """Pooled visual vectors D_u of a batch: ``features`` ``(B, e, dim)``, ``mask`` ``(B, e)`` bool.

    The first ``tokens_per_crop`` vectors of each ad are the whole image, the rest its regions.
    """

    features: torch.Tensor
    mask: torch.Tensor

    def to(self, device: torch.device | str) -> "VisualBatch":
        return VisualBatch(self.features.to(device), self.mask.to(device))

    @classmethod
    def padded(cls, arrays: Sequence[np.ndarray | None], feature_dim: int) -> "VisualBatch":
        """Per-ad ``(e_i, dim)`` arrays (None: no image) zero-padded to the longest, with the mask."""
        longest = max((a.shape[0] for a in arrays if a is not None), default=1)
        features = np.zeros((len(arrays), longest, feature_dim), np.float32)
        mask = np.zeros((len(arrays), longest), bool)
        for row, array in enumerate(arrays):
            if array is not None:
                features[row, : array.shape[0]] = array
                mask[row, : array.shape[0]] = True
        return cls(torch.from_numpy(features), torch.from_numpy(mask))


@dataclass
class FusionOutput:
    """What one forward pass gives; ``(B, T, K)`` tensors are over the view's tokens."""

    emissions: torch.Tensor  # (B, T, K) CRF emission scores O (Eq. 4)
    tag_mask: torch.Tensor  # (B, T) bool: tokens the CRF runs over
    overall_logits: torch.Tensor  # (B, 3) positive, neutral, negative
    hidden: torch.Tensor  # (B, T, hidden) G^M
    log_likelihood: torch.Tensor | None = None  # (B,) log p(tags | G^M), when tags were given
    marginals: torch.Tensor | None = None  # (B, T, K) p(tag_t = k | G^M)
    anp_logits: torch.Tensor | None = None  # (B, num_anps) pre-softmax O of Eq. 7 (S+N view only)
    gate: torch.Tensor | None = None  # (B, L, e) per-layer weights beta_u^m (Eq. 9-10)


class AnpHead(nn.Module):
    """Eq. 7: O = softmax(Q_S * mean_u(x_u) + y) over the DeepSentiBank ANPs (logits returned)."""

    def __init__(self, prompt_dim: int, num_anps: int) -> None:
        super().__init__()
        self.linear = nn.Linear(prompt_dim, num_anps)

    def forward(self, prompts: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weights = mask.to(prompts.dtype).unsqueeze(2)  # (B, e, 1)
        mean = (prompts * weights).sum(1) / weights.sum(1).clamp_min(1.0)  # (B, prompt_dim)
        return self.linear(mean)


class FusionNetwork(nn.Module):
    def __init__(self, config: ModelConfig, encoder: PreTrainedModel) -> None:
        super().__init__()
        self.config = config
        self.text = PrefixEncoder(encoder)
        hidden = self.text.hidden_size
        fusion = config.fusion
        self.prefix = VisualPrefix(config.vision.feature_dim, config.vision.tokens_per_crop, self.text.num_layers,
                                   self.text.num_heads, hidden, fusion)
        self.anp_head = AnpHead(fusion.prompt_dim, fusion.num_anps)
        self.dropout = nn.Dropout(fusion.dropout)
        self.emission = nn.Linear(hidden, len(TAGS))
        self.overall = nn.Linear(hidden, len(OVERALL_LABELS))
        self.crf = BioCrf(TAGS)  # kept with the softmax head too, so every checkpoint has the same keys
        self._softmax = SoftmaxTagger(TAGS)  # no parameters
        self.temperatures = Temperatures()  # fitted after training (calibration.json), 1 while training

    @property
    def tagger(self) -> BioCrf | SoftmaxTagger:
        """The tag head ``FusionConfig.tagger`` names: the CRF (Eq. 4) or per-token softmax."""
        return self.crf if self.config.fusion.tagger == "crf" else self._softmax

    def forward(self, text: TextBatch, visual: VisualBatch | None = None, tags: torch.Tensor | None = None,
                marginals: bool = True) -> FusionOutput:
        """The S view when ``visual`` is None, else the S+N view (prefixes unless ablated)."""
        ablation = self.config.ablation
        prefix = prompts = None
        if visual is not None and (ablation.use_prefix or ablation.use_anp):
            prompts = self.prefix.prompts(visual.features)  # (B, e, prompt_dim)
        if prompts is not None and ablation.use_prefix:
            prefix = self.prefix(prompts, visual.mask)
        hidden = self.text(text.input_ids, text.attention_mask, text.token_type_ids, prefix)  # (B, T, H)
        hidden = self.dropout(hidden)
        tag_mask = text.attention_mask.bool()
        emissions = self.emission(hidden).float()  # (B, T, K)
        weights = tag_mask.to(hidden.dtype).unsqueeze(2)
        pooled = (hidden * weights).sum(1) / weights.sum(1)  # (B, H) mean over real tokens
        out = FusionOutput(
            emissions=emissions,
            tag_mask=tag_mask,
            overall_logits=self.overall(pooled).float(),
            hidden=hidden,
            gate=prefix.gate if prefix is not None else None,
        )
        if tags is not None:
            out.log_likelihood = self.tagger.log_likelihood(emissions, tags, tag_mask)
        if marginals:
            temperature = 1.0 if self.training else self.temperatures.attribute
            out.marginals = self.tagger.marginals(emissions, tag_mask, temperature)
        if prompts is not None and ablation.use_anp:
            out.anp_logits = self.anp_head(prompts, visual.mask).float()
        return out

    def overall_probabilities(self, out: FusionOutput) -> torch.Tensor:
        """``(B, 3)`` overall-sentiment probabilities (the fitted overall temperature applied)."""
        return torch.softmax(out.overall_logits / self.temperatures.overall, dim=1)

    def decode(self, out: FusionOutput) -> torch.Tensor:
        """Best valid BIO tag ids ``(B, T)`` of an output (Viterbi, or repaired per-token argmax)."""
        return self.tagger.viterbi(out.emissions, out.tag_mask)
