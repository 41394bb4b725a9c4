"""The training objective (Eq. 13-15), plus the overall-sentiment term.

    L = eta * M_S + omega * M_N + epsilon * M_{S+N} + lambda * M_overall

- ``M_S``      CRF negative log-likelihood of the gold tags, mean over ads, summed over the views
               run (S, and S+N when the ad has visual input): Eq. 14.
- ``M_N``      cross-entropy between the top-V teacher distribution H and the ANP head's
               softmax O, mean over ads with an image: Eq. 8.
- ``M_{S+N}``  KL(sg(p_{S+N}) || p_S) of the CRF token marginals, mean over aligned ad-copy
               tokens; ``sg`` stops the gradient, so only the text-only branch moves: Eq. 13.
- ``M_overall`` cross-entropy of the overall-sentiment head where an overall label exists.

Beside Eq. 15, the recipe study adds an optional per-token tag cross-entropy on the emissions
(``LossWeights.token``), with label smoothing and class weights for the sentiment tags.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from model.labels import TAGS, tag_parts
from schemas.base import SENTIMENTS

#: Floor of a probability before its log (a marginal of a forbidden tag is exactly 0).
PROB_FLOOR = 1e-8


def crf_nll(log_likelihood: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood ``-(1/B) sum_b log p(y_b | G_b)`` of ``(B,)`` log-likelihoods."""
    return -log_likelihood.mean()


def top_v_target(teacher: torch.Tensor, top_v: int | None) -> torch.Tensor:
    """H of Eq. 8: the teacher's ``(B, A)`` distribution kept on its top-V ANPs and renormalised.

    ``top_v`` None keeps the whole distribution; 0 gives an all-zero target (no ANP loss).
    """
    if top_v is None or top_v >= teacher.shape[1]:
        kept = teacher
    elif top_v <= 0:
        return torch.zeros_like(teacher)
    else:
        values, indices = teacher.topk(top_v, dim=1)
        kept = torch.zeros_like(teacher).scatter(1, indices, values)
    return kept / kept.sum(1, keepdim=True).clamp_min(PROB_FLOOR)


def anp_cross_entropy(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``-(1/|B'|) sum_b sum_a H_ba log softmax(O_b)_a`` over the ads in ``mask`` (Eq. 8)."""
    per_ad = -(target * F.log_softmax(logits.float(), dim=1)).sum(1)  # (B,)
    if mask is None:
        return per_ad.mean()
    weights = mask.float()
    return (per_ad * weights).sum() / weights.sum().clamp_min(1.0)


def text_centred_kl(fused: torch.Tensor, text_only: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(sg(p_{S+N}) || p_S) per token, averaged over ``mask`` (Eq. 13).

    ``fused`` and ``text_only`` are ``(B, T, K)`` CRF marginals over the same (aligned) tokens;
    ``fused`` is detached, so the gradient reaches the text-only branch only.
    """
    reference = fused.detach().float()
    log_ref = reference.clamp_min(PROB_FLOOR).log()
    log_model = text_only.float().clamp_min(PROB_FLOOR).log()
    per_token = (reference * (log_ref - log_model)).sum(2)  # (B, T)
    weights = mask.float()
    return (per_token * weights).sum() / weights.sum().clamp_min(1.0)


def overall_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy over the ads with a label (``labels`` -1 where none); 0 when none has one."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known].float(), labels[known], label_smoothing=label_smoothing)


def token_cross_entropy(emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, label_smoothing: float = 0.0,
                        tag_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Per-token cross-entropy of the ``(B, T, K)`` emissions against the gold tags, summed over each
    sequence's ``mask`` and averaged over the batch (the scale of the CRF NLL), each token weighted
    by its gold tag's weight (``tag_weights`` ``(K,)``, 1 when None)."""
    per_token = F.cross_entropy(emissions.float().transpose(1, 2), tags, reduction="none",
                                label_smoothing=label_smoothing)  # (B, T)
    weights = mask.float()
    if tag_weights is not None:
        weights = weights * tag_weights.to(emissions.device)[tags]
    return (per_token * weights).sum() / max(1, emissions.shape[0])


def balanced_tag_weights(sentiments: Iterable[str]) -> torch.Tensor:
    """``(K,)`` tag weights from the gold spans' sentiments: ``O`` 1, ``B-x``/``I-x`` the inverse of
    x's share, scaled so that the mean weight over spans is 1 (a sentiment never seen: 1)."""
    counts = Counter(sentiments)
    total = sum(counts.values())
    share = {s: total / (len(SENTIMENTS) * counts[s]) if counts.get(s) else 1.0 for s in SENTIMENTS}
    return torch.tensor([1.0 if tag_parts(t)[1] is None else share[tag_parts(t)[1]] for t in TAGS])
