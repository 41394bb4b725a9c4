"""The two input views: text-only ``S`` and fused ``S [SEP] N_z`` (Section 2.1, Eq. 13).

Both views of one ad share the same (possibly cut) ad copy, so token ``i`` of the S view is token
``i`` of the S+N view for every ad-copy token. Truncation cuts the generated texts N_z first; the
ad copy is cut only when it alone does not fit, and then N_z is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch
from transformers import PreTrainedTokenizerBase

from model.config import AblationConfig
from model.fusion.errors import ModelError, ModelErrorCode
from schemas.description import Description, Segment

AD_COPY = 0  # sequence id of S
CONTEXT = 1  # sequence id of N_z
SPECIAL = -1  # [CLS], [SEP], padding
SEPARATOR = " [SEP] "
_GROUPS = (("caption", "use_caption"), ("face", "use_faces"), ("ocr", "use_ocr"))


@dataclass
class TextBatch:
    """One tokenized view (right-padded). All ``(B, T)`` except ``offsets`` ``(B, T, 2)`` (characters, end exclusive,
    within the token's own string: the ad copy or the composed context)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    sequence_ids: torch.Tensor
    word_ids: torch.Tensor  # -1 for special tokens and padding
    offsets: torch.Tensor

    def to(self, device: torch.device | str) -> "TextBatch":
        return TextBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    @property
    def copy_mask(self) -> torch.Tensor:
        """``(B, T)`` bool: the ad-copy tokens (aligned between the two views)."""
        return self.sequence_ids == AD_COPY


@dataclass(frozen=True)
class Context:
    """N_z as fed to the encoder, with its segments (offsets into ``text``)."""

    text: str
    segments: tuple[Segment, ...]


def compose_context(description: Description, ablation: AblationConfig) -> Context:
    """N_z of a description with the ablated levels left out (Z [SEP] F [SEP] P [SEP])."""
    if ablation.use_caption and ablation.use_faces and ablation.use_ocr:
        return Context(description.visual_context, description.segments)
    parts: list[str] = []
    segments: list[Segment] = []
    cursor = 0
    for name, switch in _GROUPS:
        if not getattr(ablation, switch):
            continue
        group = [s for s in description.segments if s.name == name]
        if not group:
            continue
        begin, end = min(s.start for s in group), max(s.end for s in group)
        for seg in group:
            segments.append(seg.model_copy(update={"start": cursor + seg.start - begin, "end": cursor + seg.end - begin}))
        part = description.visual_context[begin:end] + SEPARATOR
        parts.append(part)
        cursor += len(part)
    return Context("".join(parts).rstrip(), tuple(segments))


class ViewTokenizer:
    """Builds :class:`TextBatch` views with a fast (offset-reporting) tokenizer."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_length: int) -> None:
        if not tokenizer.is_fast:
            raise ModelError(ModelErrorCode.BAD_INPUT, "the text encoder needs a fast tokenizer (character offsets)")
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "right"  # the CRF expects real tokens first
        self.max_length = max_length
        self.pair_specials = tokenizer.num_special_tokens_to_add(pair=True)

    def _cut(self, texts: Sequence[str], budgets: Sequence[int]) -> list[str]:
        """Each text cut after its first ``budget`` tokens (at a token's end character)."""
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        cut = []
        for text, offsets, budget in zip(texts, enc["offset_mapping"], budgets):
            if len(offsets) <= budget:
                cut.append(text)
            else:
                cut.append(text[: offsets[budget - 1][1]] if budget > 0 else "")
        return cut

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    def _cut_pairs(self, copies: Sequence[str], contexts: Sequence[str]) -> tuple[list[str], list[str]]:
        """Copies cut to the limit, then each context cut to the room its copy leaves."""
        room = self.max_length - self.pair_specials
        copies = self._cut(copies, [room] * len(copies))
        left = [room - n for n in self._lengths(copies)]
        return copies, self._cut(contexts, left)

    def encode_views(self, copies: Sequence[str], contexts: Sequence[str]) -> tuple[TextBatch, TextBatch]:
        """(S view, S+N view) of a batch of ads."""
        copies, contexts = self._cut_pairs(copies, contexts)
        return self._encode(copies, None), self._encode(copies, contexts)

    def fused_lengths(self, copies: Sequence[str], contexts: Sequence[str]) -> list[int]:
        """Tokens of each ad's S+N input (specials included, capped at the limit), without padding."""
        pairs = zip(self._lengths(copies), self._lengths(contexts))
        return [min(s + n + self.pair_specials, self.max_length) for s, n in pairs]

    def encode_text_only(self, copies: Sequence[str]) -> TextBatch:
        room = self.max_length - self.pair_specials
        return self._encode(self._cut(copies, [room] * len(copies)), None)

    def encode_fused(self, copies: Sequence[str], contexts: Sequence[str]) -> TextBatch:
        """The S+N view alone (the same batch as ``encode_views(...)[1]``)."""
        return self._encode(*self._cut_pairs(copies, contexts))

    def _encode(self, copies: list[str], contexts: list[str] | None) -> TextBatch:
        enc = self.tokenizer(copies, contexts, padding=True, truncation=False, return_offsets_mapping=True,
                             return_token_type_ids=True, return_tensors="pt")
        if enc["input_ids"].shape[1] > self.max_length:
            raise ModelError(ModelErrorCode.INPUT_TOO_LONG,
                             f"{enc['input_ids'].shape[1]} tokens after cutting; the limit is {self.max_length}")
        seq = [[SPECIAL if s is None else s for s in enc.sequence_ids(i)] for i in range(len(copies))]
        words = [[SPECIAL if w is None else w for w in enc.word_ids(i)] for i in range(len(copies))]
        return TextBatch(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            token_type_ids=enc["token_type_ids"],
            sequence_ids=torch.tensor(seq, dtype=torch.long),
            word_ids=torch.tensor(words, dtype=torch.long),
            offsets=enc["offset_mapping"],
        )
