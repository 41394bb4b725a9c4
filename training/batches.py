"""Examples with their cached image inputs, and the tensors of one training/evaluation batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model.config import ModelConfig
from model.fusion.inputs import Context, TextBatch, ViewTokenizer, compose_context
from model.fusion.network import VisualBatch
from model.labels import OVERALL_LABELS
from model.pipeline import classify_inputs
from schemas.description import Description
from training.alignment import Placed, gold_tags, place_spans
from training.anchors import anchor, anchor_counts, with_templates
from training.data.examples import JmasaExample

log = logging.getLogger(__name__)
OVERALL_TO_ID = {label: i for i, label in enumerate(OVERALL_LABELS)}


@dataclass
class Prepared:
    """One example with what the image gave: description, context N_z, features, ANP teacher row."""

    example: JmasaExample
    description: Description | None = None
    context: Context | None = None
    features: np.ndarray | None = None  # (e, dim) float16
    teacher: np.ndarray | None = None  # (A,) float32

    @property
    def has_image(self) -> bool:
        return self.features is not None


@dataclass
class Batch:
    """The tensors of a batch: the S view of every row, the S+N view of the rows with an image
    (None when none has one)."""

    prepared: list[Prepared]
    text: TextBatch  # S view
    tags: torch.Tensor  # (B, T_S)
    fused: TextBatch | None  # S+N view of the rows with an image (``fused_rows``)
    fused_tags: torch.Tensor | None  # (B', T_SN)
    visual: VisualBatch | None  # (B', e, dim)
    overall: torch.Tensor  # (B,) label id or -1
    teacher: torch.Tensor | None  # (B', A)
    teacher_mask: torch.Tensor | None  # (B',) bool: rows with a teacher distribution
    contexts: list[Context | None]
    fused_rows: torch.Tensor = None  # (B',) long: the rows of ``fused`` within the batch

    def __len__(self) -> int:
        return len(self.prepared)

    def to(self, device: torch.device) -> "Batch":
        move = (lambda x: x.to(device) if x is not None else None)  # noqa: E731
        return Batch(self.prepared, self.text.to(device), self.tags.to(device), move(self.fused),
                     move(self.fused_tags), move(self.visual), self.overall.to(device), move(self.teacher),
                     move(self.teacher_mask), self.contexts, self.fused_rows.to(device))


def attach_images(examples: Sequence[JmasaExample], config: ModelConfig, cache, teacher=None) -> list[Prepared]:  # noqa: ANN001
    """Each example with its description, N_z (ablations applied), features and teacher row.

    ``cache`` is a :class:`training.features.FeatureCache` (None: text only); examples without an
    image file stay text-only. Template segments go into N_z and labels on generated texts are
    re-anchored to the describe output (:mod:`training.anchors`).
    """
    prepared = [Prepared(e) for e in examples]
    with_image = [p for p in prepared if p.example.image_path is not None]
    if cache is None or not with_image:
        return prepared
    found = cache.get([p.example.image_path for p in with_image])
    for item, result in zip(with_image, found):
        item.description = with_templates(result.description, item.example)
        item.context = compose_context(item.description, config.ablation)
        item.features = result.features
        item.example = anchor(item.example, item.description)
    counts = anchor_counts([p.example for p in with_image])
    if counts:
        log.info("labels on generated texts found in the describe output: %s", counts)
    if teacher is not None and config.ablation.use_anp:
        rows = teacher.distributions([p.example.image_path for p in with_image], [p.description for p in with_image])
        for item, row in zip(with_image, rows):
            item.teacher = row
    return prepared


def collate(prepared: Sequence[Prepared], views: ViewTokenizer, config: ModelConfig, text_only: bool = False) -> Batch:
    """Tokenize the S view of every example and the S+N view of those with an image (``fused_rows``)."""
    prepared = list(prepared)
    rows = [] if text_only else [i for i, p in enumerate(prepared) if p.has_image]
    text = views.encode_text_only([p.example.text for p in prepared])
    fused = fused_tags = visual = teacher = teacher_mask = None
    placed: list[list[Placed]] = []
    for item in prepared:
        spans, dropped = place_spans(item.example, item.context if item.has_image and not text_only else None)
        if dropped:
            log.debug("%s: %d spans on generated texts the context does not hold", item.example.example_id, dropped)
        placed.append(spans)
    if rows:
        chosen = [prepared[i] for i in rows]
        fused, visual = classify_inputs(views, [p.example.text for p in chosen], [p.context.text for p in chosen],
                                        [p.features for p in chosen], config.vision.feature_dim)
        fused_tags = gold_tags(fused, [placed[i] for i in rows])
        if config.ablation.use_anp and any(p.teacher is not None for p in chosen):
            size = next(p.teacher.shape[0] for p in chosen if p.teacher is not None)
            teacher = torch.from_numpy(np.stack([p.teacher if p.teacher is not None else np.zeros(size, np.float32)
                                                 for p in chosen]))
            teacher_mask = torch.tensor([p.teacher is not None for p in chosen])
    overall = torch.tensor([OVERALL_TO_ID[p.example.overall] if p.example.overall else -1 for p in prepared])
    return Batch(
        prepared=prepared, text=text, tags=gold_tags(text, [[s for s in spans if s.sequence == 0] for spans in placed]),
        fused=fused, fused_tags=fused_tags, visual=visual, overall=overall, teacher=teacher,
        teacher_mask=teacher_mask, contexts=[p.context if p.has_image else None for p in prepared],
        fused_rows=torch.tensor(rows, dtype=torch.long))
