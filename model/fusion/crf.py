"""The CRF over BIO x sentiment tags (Eq. 4), constrained to valid BIO sequences.

The parameters are pytorch-crf's (``start_transitions``, ``transitions``, ``end_transitions``).
The likelihood, the forward-backward marginals and Viterbi are written here, batched over the
whole batch (loops run over time steps only), with impossible moves (``O -> I-x``,
``B-x -> I-y``, ``I-x -> I-y`` for ``x != y``, starting on ``I-x``) masked out, so a decoded
sequence is always valid BIO and the marginals sum over valid sequences only.

Shapes: emissions ``(B, T, K)``, mask ``(B, T)`` bool with ``mask[:, 0]`` set and every row
left-aligned (real tokens first), tags ``(B, T)`` long.
"""

from __future__ import annotations

import torch
from torchcrf import CRF

from model.labels import TAGS, tag_parts

# Added to the score of a forbidden move; large enough to never win, small enough for float32.
IMPOSSIBLE = -1.0e4


def allowed_transitions(tags: tuple[str, ...] = TAGS) -> tuple[torch.Tensor, torch.Tensor]:
    """``(allowed[from, to], allowed_start[to])`` as bool tensors for a BIO tag set."""
    size = len(tags)
    parts = [tag_parts(tag) for tag in tags]
    allowed = torch.ones(size, size, dtype=torch.bool)
    start = torch.ones(size, dtype=torch.bool)
    for to in range(size):
        bio_to, sent_to = parts[to]
        if bio_to != "I":
            continue
        start[to] = False
        for frm in range(size):
            bio_from, sent_from = parts[frm]
            allowed[frm, to] = bio_from != "O" and sent_from == sent_to
    return allowed, start


class BioCrf(CRF):
    """pytorch-crf's CRF with BIO constraints and batched marginals and decoding."""

    def __init__(self, tags: tuple[str, ...] = TAGS) -> None:
        super().__init__(len(tags), batch_first=True)
        allowed, start = allowed_transitions(tags)
        self.register_buffer("allowed", allowed, persistent=False)
        self.register_buffer("allowed_start", start, persistent=False)

    def constrained(self, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(start (K,), transitions (K, K), end (K,)) with forbidden moves at IMPOSSIBLE, divided by ``temperature``."""
        start = (self.start_transitions.float() / temperature).masked_fill(~self.allowed_start, IMPOSSIBLE)
        trans = (self.transitions.float() / temperature).masked_fill(~self.allowed, IMPOSSIBLE)
        return start, trans, self.end_transitions.float() / temperature

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log p(tags | emissions) per sequence, ``(B,)`` (Eq. 4)."""
        return self._gold_score(emissions.float(), tags, mask) - self.log_partition(emissions, mask)

    def _gold_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        start, trans, end = self.constrained()
        maskf = mask.float()
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2) * maskf  # (B, T)
        moves = trans[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]  # (B, T-1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # (B,)
        return start[tags[:, 0]] + emit.sum(1) + moves.sum(1) + end[last]

    def _forward_scores(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """alpha ``(B, T, K)``: log-sum of all valid prefixes ending in each tag (emissions already divided)."""
        start, trans, _ = self.constrained(temperature)
        alpha = [start + emissions[:, 0]]  # (B, K)
        for t in range(1, emissions.shape[1]):
            nxt = torch.logsumexp(alpha[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]  # (B, K)
            alpha.append(torch.where(mask[:, t].unsqueeze(1), nxt, alpha[-1]))
        return torch.stack(alpha, dim=1)

    def _backward_scores(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """beta ``(B, T, K)``: log-sum of all valid suffixes after each tag (excl. its emission)."""
        _, trans, end = self.constrained(temperature)
        steps = emissions.shape[1]
        beta = [end.expand(emissions.shape[0], -1)]
        for t in range(steps - 2, -1, -1):
            nxt = torch.logsumexp(trans + (emissions[:, t + 1] + beta[-1]).unsqueeze(1), dim=2)  # (B, K)
            beta.append(torch.where(mask[:, t + 1].unsqueeze(1), nxt, end.expand_as(nxt)))
        return torch.stack(beta[::-1], dim=1)

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sequence ``(B,)``."""
        emissions = emissions.float()
        alpha = self._forward_scores(emissions, mask)
        last = alpha[torch.arange(alpha.shape[0], device=alpha.device), mask.sum(1) - 1]  # (B, K)
        return torch.logsumexp(last + self.constrained()[2], dim=1)

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """p(tag_t = k | emissions) ``(B, T, K)`` by forward-backward; zero at masked positions. A
        ``temperature`` divides every score first (calibration; the Viterbi path does not change)."""
        emissions = emissions.float() / temperature
        alpha = self._forward_scores(emissions, mask, temperature)
        beta = self._backward_scores(emissions, mask, temperature)
        log_z = torch.logsumexp(alpha[torch.arange(alpha.shape[0], device=alpha.device), mask.sum(1) - 1]
                                + self.constrained(temperature)[2], dim=1)
        probs = torch.exp(alpha + beta - log_z[:, None, None])
        return probs * mask.unsqueeze(2).float()

    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The best valid tag sequence ``(B, T)``; ``O`` (0) at masked positions."""
        emissions = emissions.float()
        start, trans, end = self.constrained()
        batch, steps, _ = emissions.shape
        score = start + emissions[:, 0]  # (B, K)
        pointers = torch.zeros(batch, steps, self.num_tags, dtype=torch.long, device=emissions.device)
        for t in range(1, steps):
            best, index = (score.unsqueeze(2) + trans).max(dim=1)  # (B, K): best previous tag per tag
            pointers[:, t] = index
            score = torch.where(mask[:, t].unsqueeze(1), best + emissions[:, t], score)
        last_index = mask.sum(1) - 1  # (B,)
        current = (score + end).argmax(dim=1)  # (B,)
        best_last = current
        tags = torch.zeros(batch, steps, dtype=torch.long, device=emissions.device)
        for t in range(steps - 1, -1, -1):
            active = t <= last_index
            tags[:, t] = torch.where(active, current, torch.zeros_like(current))
            previous = pointers[:, t].gather(1, current.unsqueeze(1)).squeeze(1)
            current = torch.where(active, previous, best_last)
        return tags
