"""Independent per-token tags: the softmax alternative to the CRF of Eq. 4 (``FusionConfig.tagger``).

Same interface as :class:`model.fusion.crf.BioCrf` (log-likelihood, marginals, decoding), so the
network, the losses and the decoders do not care which head runs. Decoding takes each token's
most likely tag and repairs invalid BIO moves: an ``I-x`` that cannot continue the span before it
starts a new span (``B-x``).
"""

from __future__ import annotations

import torch

from model.fusion.crf import allowed_transitions
from model.labels import TAGS, TAG_TO_ID, tag_parts


class SoftmaxTagger:
    """Per-token softmax over the BIO x sentiment tags (no parameters: the emissions are the logits)."""

    def __init__(self, tags: tuple[str, ...] = TAGS) -> None:
        allowed, start = allowed_transitions(tags)
        self.allowed, self.allowed_start = allowed, start
        # I-x -> B-x: where an inside tag that cannot continue goes
        self.restart = torch.tensor([TAG_TO_ID[f"B-{tag_parts(t)[1]}"] if tag_parts(t)[0] == "I" else i
                                     for i, t in enumerate(tags)])

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(B,)`` sum over real tokens of log softmax(emissions)[gold tag]."""
        log_probs = torch.log_softmax(emissions.float(), dim=2).gather(2, tags.unsqueeze(2)).squeeze(2)
        return (log_probs * mask.float()).sum(1)

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """``(B, T, K)`` per-token tag probabilities (logits divided by ``temperature``); zero where masked."""
        return torch.softmax(emissions.float() / temperature, dim=2) * mask.unsqueeze(2).float()

    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Each token's best tag, repaired to valid BIO; ``O`` (0) at masked positions."""
        best = emissions.argmax(2)
        allowed = self.allowed.to(best.device)
        restart = self.restart.to(best.device)
        repaired = [torch.where(self.allowed_start.to(best.device)[best[:, 0]], best[:, 0], restart[best[:, 0]])]
        for t in range(1, best.shape[1]):
            current = best[:, t]
            repaired.append(torch.where(allowed[repaired[-1], current], current, restart[current]))
        return torch.stack(repaired, dim=1) * mask.long()
