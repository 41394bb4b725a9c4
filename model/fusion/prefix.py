"""Visual prompts for every self-attention layer (Eq. 9-11).

D_u ``(B, e, dim)`` -> shared MLP (reduce + normalise) -> per-layer softmax gate over the vectors
of the whole image (N_H) and, separately, of the top-C regions (N_Py) -> ``N^m = [N_H^m; N_Py^m]``
(Eq. 10) -> per-layer linear map ``Q_f^m`` to P key and P value vectors (Eq. 11).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from model.config import FusionConfig


@dataclass
class PrefixKV:
    """Per-layer prefixes: keys and values ``(L, B, heads, P, head_dim)``, gate ``(B, L, e)``."""

    keys: torch.Tensor
    values: torch.Tensor
    gate: torch.Tensor

    @property
    def length(self) -> int:
        return self.keys.shape[3]


class PromptMlp(nn.Module):
    """The shared MLP of Eq. 9: D_u -> a normalised prompt vector of ``prompt_dim``."""

    def __init__(self, feature_dim: int, config: FusionConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(feature_dim, config.prompt_hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.prompt_hidden, config.prompt_dim),
            nn.LayerNorm(config.prompt_dim),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Softmax over ``dim`` ignoring masked entries; all-masked slices give zeros (not NaN)."""
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=dim) * mask.to(scores.dtype)
    return weights / weights.sum(dim=dim, keepdim=True).clamp_min(torch.finfo(scores.dtype).tiny)


class VisualPrefix(nn.Module):
    """Eq. 9-11: pooled visual vectors -> each layer's key and value prefixes."""

    def __init__(self, feature_dim: int, tokens_per_crop: int, num_layers: int, num_heads: int,
                 hidden_size: int, config: FusionConfig) -> None:
        super().__init__()
        self.tokens_per_crop = tokens_per_crop
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.prefix_length = config.prefix_length
        self.mlp = PromptMlp(feature_dim, config)
        self.gate = nn.Linear(config.prompt_dim, num_layers)  # one score per layer and vector (Eq. 9)
        out = 2 * config.prefix_length * hidden_size  # keys and values
        # Q_f^m of Eq. 11, one per layer, applied to [N_H^m; N_Py^m].
        self.project_weight = nn.Parameter(torch.empty(num_layers, 2 * config.prompt_dim, out))
        self.project_bias = nn.Parameter(torch.zeros(num_layers, out))
        nn.init.normal_(self.project_weight, std=(2 * config.prompt_dim) ** -0.5)
        self.dropout = nn.Dropout(config.dropout)

    def prompts(self, features: torch.Tensor) -> torch.Tensor:
        """x_u = MLP(D_u), ``(B, e, prompt_dim)``: also the ANP head's input (Eq. 7)."""
        return self.mlp(features)

    def forward(self, prompts: torch.Tensor, mask: torch.Tensor) -> PrefixKV:
        """``prompts`` ``(B, e, prompt_dim)`` from :meth:`prompts`, ``mask`` ``(B, e)`` bool."""
        batch, count, _ = prompts.shape
        whole = torch.arange(count, device=prompts.device) < self.tokens_per_crop  # (e,)
        scores = self.gate(prompts).transpose(1, 2)  # (B, L, e)
        mask_h = (mask & whole).unsqueeze(1)  # (B, 1, e)
        mask_p = (mask & ~whole).unsqueeze(1)
        beta_h = masked_softmax(scores, mask_h.expand_as(scores), dim=2)  # (B, L, e)
        beta_p = masked_softmax(scores, mask_p.expand_as(scores), dim=2)
        n_h = beta_h @ prompts  # (B, L, prompt_dim)   Eq. 10, whole image
        n_p = beta_p @ prompts  # (B, L, prompt_dim)   Eq. 10, regions
        n_m = torch.cat([n_h, n_p], dim=2)  # (B, L, 2 * prompt_dim)
        kv = torch.einsum("bld,ldo->blo", n_m, self.project_weight) + self.project_bias  # Eq. 11
        kv = self.dropout(kv).view(batch, self.num_layers, 2, self.prefix_length, self.num_heads, self.head_dim)
        kv = kv.permute(2, 1, 0, 4, 3, 5)  # (2, L, B, heads, P, head_dim)
        return PrefixKV(keys=kv[0], values=kv[1], gate=beta_h + beta_p)
