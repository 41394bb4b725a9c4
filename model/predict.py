"""The library entry point: ads in, :class:`schemas.events.AdSentiment` out.

``classify`` is the classify stage (AdFeatures -> AdSentiment); ``predict`` runs describe,
features and classify in one process. Both are batched, run under ``torch.inference_mode`` and
use autocast on a GPU.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from model.anp import load_anp_vocabulary
from model.checkpoint import load_checkpoint, save_checkpoint
from model.config import ModelConfig
from model.evidence import EvidenceLimits, build_evidence
from model.fusion.batching import length_groups
from model.fusion.decode import tag_spans, to_attributes
from model.fusion.encoder import load_text_encoder
from model.fusion.errors import ModelError, ModelErrorCode
from model.fusion.inputs import Context, ViewTokenizer, compose_context
from model.fusion.network import FusionNetwork, FusionOutput, VisualBatch
from model.labels import OVERALL_LABELS
from model.precision import autocast
from model.vision import FeatureExtractor, default_device, features_array, features_tensor
from schemas.base import utc_now
from schemas.description import Description
from schemas.events import (
    AdFeatures,
    AdHeader,
    AdSentiment,
    AdUploaded,
    GeneratedTexts,
    OverallSentiment,
    VisualConcept,
)
from schemas.evidence import Evidence

if TYPE_CHECKING:
    from PIL import Image

    from model.pipeline import Described

log = logging.getLogger(__name__)
DEFAULT_MAX_PADDING = 0.25  # padded tokens over real tokens a classify pass may add (see length_groups)


class AdSentimentModel:
    """The fused model with its tokenizer, ready to classify ads."""

    def __init__(self, config: ModelConfig, network: FusionNetwork, tokenizer: Any, model_version: str,
                 device: torch.device | str | None = None) -> None:
        self.config = config
        self.device = torch.device(device) if device is not None else default_device()
        self.network = network.eval().to(self.device)
        self.tokenizer = tokenizer
        self.views = ViewTokenizer(tokenizer, config.text.max_length)
        self.model_version = model_version
        self.anps = load_anp_vocabulary()
        self._features: FeatureExtractor | None = None
        self._describer: Any = None
        self.describe_record: dict[str, Any] | None = None  # the describe config N_z came from in training
        self.evidence = True  # results carry the evidence block (ADSENT_RESULT_EVIDENCE)
        self.evidence_limits = EvidenceLimits()

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: ModelConfig, device: torch.device | str | None = None) -> "AdSentimentModel":
        """Pretrained backbones, untrained heads and prefixes."""
        encoder, tokenizer = load_text_encoder(config.text)
        torch.manual_seed(0)  # the untrained heads are the same in every process
        network = FusionNetwork(config, encoder)
        return cls(config, network, tokenizer, f"untrained-{config.text.encoder}", device)

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: torch.device | str | None = None) -> "AdSentimentModel":
        from model.describe.parity import load_describe_record

        loaded = load_checkpoint(directory)
        model = cls(loaded.config, loaded.network, loaded.tokenizer, loaded.model_version, device)
        model.describe_record = load_describe_record(directory)
        return model

    def save_pretrained(self, directory: str | Path, model_version: str | None = None) -> Path:
        path = save_checkpoint(directory, self.network, self.tokenizer, model_version or self.model_version)
        if self.describe_record is not None:
            from model.describe.parity import DESCRIBE_RECORD

            (path / DESCRIBE_RECORD).write_text(json.dumps(self.describe_record, indent=2, sort_keys=True))
        return path

    @property
    def feature_extractor(self) -> FeatureExtractor:
        """The features stage's encoder, loaded on first use."""
        if self._features is None:
            self._features = FeatureExtractor(self.config, self.device)
        return self._features

    # --- classify stage -----------------------------------------------------------------------
    def _feature_arrays(self, events: Sequence[AdFeatures]) -> list[np.ndarray]:
        """Each event's ``(e, dim)`` features, checked against the model's encoder and sizes."""
        vision = self.config.vision
        arrays = []
        for event in events:
            if event.encoder != vision.name:
                raise ModelError(ModelErrorCode.FEATURES_MISMATCH,
                                 f"ad {event.ad.ad_id}: features from {event.encoder!r}, the model expects "
                                 f"{vision.name!r}")
            array = features_array(event.features)
            if array.ndim != 2 or array.shape[1] != vision.feature_dim or array.shape[0] < vision.tokens_per_crop:
                raise ModelError(ModelErrorCode.FEATURES_MISMATCH,
                                 f"ad {event.ad.ad_id}: features of shape {array.shape}, expected (e >= "
                                 f"{vision.tokens_per_crop}, {vision.feature_dim})")
            arrays.append(array)
        return arrays

    def _visual_batch(self, events: Sequence[AdFeatures]) -> VisualBatch:
        return VisualBatch.padded(self._feature_arrays(events), self.config.vision.feature_dim).to(self.device)


    def contexts(self, events: Sequence[AdFeatures]) -> list[Context]:
        """Each ad's generated texts N_z as the model reads them."""
        return [compose_context(e.description, self.config.ablation) for e in events]

    def forward_events(self, events: Sequence[AdFeatures], contexts: Sequence[Context] | None = None
                       ) -> tuple[FusionOutput, torch.Tensor, Any, list]:
        """The S+N forward pass of a batch: (output, Viterbi tags, text batch, contexts)."""
        from model.pipeline import classify_inputs

        contexts = list(contexts) if contexts is not None else self.contexts(events)
        text, visual = classify_inputs(self.views, [e.ad.text for e in events], [c.text for c in contexts],
                                       self._feature_arrays(events), self.config.vision.feature_dim)
        text, visual = text.to(self.device), visual.to(self.device)
        with torch.inference_mode(), autocast(self.device):
            out = self.network(text, visual)
            tags = self.network.decode(out)
        return out, tags, text, contexts

    def classify(self, events: Sequence[AdFeatures], max_padding: float = DEFAULT_MAX_PADDING) -> list[AdSentiment]:
        """The classify stage: batched forward passes over ``events``, in order.

        Ads of similar length share a pass, each pass padded to at most ``1 + max_padding`` times its
        real tokens (``float('inf')``: one pass for all).
        """
        contexts = self.contexts(events)
        if len(events) < 2:
            return self._classify_batch(events, contexts)
        lengths = self.views.fused_lengths([e.ad.text for e in events], [c.text for c in contexts])
        results: list[AdSentiment | None] = [None] * len(events)
        for group in length_groups(lengths, max_padding):
            chosen = self._classify_batch([events[i] for i in group], [contexts[i] for i in group])
            for index, result in zip(group, chosen):
                results[index] = result
        return results  # type: ignore[return-value]

    def _classify_batch(self, events: Sequence[AdFeatures], contexts: Sequence[Context]) -> list[AdSentiment]:
        """One batched forward pass for all ``events``."""
        if not events:
            return []
        started = time.perf_counter()
        out, tags, text, contexts = self.forward_events(events, contexts)
        spans = tag_spans(tags, out.marginals, text, self.config.fusion.span_sentiment)
        overall = self.network.overall_probabilities(out).cpu().numpy()
        concepts = self._concepts(out.anp_logits)
        gates = out.gate.float().cpu().numpy() if self.evidence and out.gate is not None else None
        seconds = time.perf_counter() - started
        results = []
        for row, event in enumerate(events):
            emitted = utc_now()
            ad = event.ad
            results.append(AdSentiment(
                ad_id=ad.ad_id,
                model_version=self.model_version,
                overall=OverallSentiment(label=OVERALL_LABELS[int(overall[row].argmax())],
                                         scores={s: float(overall[row, i]) for i, s in enumerate(OVERALL_LABELS)}),
                attributes=tuple(to_attributes(spans[row], ad.text, contexts[row])),
                concepts=concepts[row] if concepts else (),
                texts=generated_texts(event.description),
                uploaded_at=ad.uploaded_at,
                emitted_at=emitted,
                stage_seconds={**event.stage_seconds, "classify": seconds},
                end_to_end_seconds=max(0.0, (emitted - ad.uploaded_at).total_seconds()),
                evidence=self._evidence(event, None if gates is None else gates[row]) if self.evidence else None,
            ))
        return results

    def _evidence(self, event: AdFeatures, gate: np.ndarray | None) -> Evidence:
        """The ad's boxes and its ``(L, e)`` gate, for ``adsent explain``."""
        return build_evidence(event.description, self.config.vision, event.features.shape[0], gate,
                              self.evidence_limits)

    def _concepts(self, anp_logits: torch.Tensor | None) -> list[tuple[VisualConcept, ...]]:
        """The top-V ANPs of every ad, best first (empty when the ANP task is off)."""
        if anp_logits is None:
            return []
        probs = torch.softmax(anp_logits.float(), dim=1)
        top = torch.topk(probs, k=min(self.config.fusion.top_v, probs.shape[1]), dim=1)
        scores, indices = top.values.cpu().numpy(), top.indices.cpu().numpy()
        result = []
        for row in range(scores.shape[0]):
            concepts = []
            for score, index in zip(scores[row], indices[row]):
                anp = self.anps[int(index)]
                concepts.append(VisualConcept(anp=anp.name, score=float(score), sentiment=anp.sentiment,
                                              sentiment_score=anp.score if anp.score is not None else 0.0))
            result.append(tuple(concepts))
        return result

    # --- describe + features + classify ---------------------------------------------------------
    def use_describer(self, describer: Any) -> None:
        """The describe stage ``predict`` uses (default: the offline describer with default settings)."""
        self._describer = describer

    @property
    def describer(self) -> Any:
        """The describe stage ``predict`` uses; default: the checkpoint's describe configuration
        (``describe.json``; the defaults when it has none) on this device."""
        if self._describer is None:
            from model.describe import DescribeConfig, Describer
            from model.describe.parity import config_from_record

            self._describer = Describer(config_from_record(self.describe_record, DescribeConfig(device=self.device.type)))
        return self._describer

    def features(self, ads: Sequence[AdUploaded], images: Sequence["Image.Image"],
                 descriptions: Sequence[Description], stage_seconds: Sequence[dict[str, float]]) -> list[AdFeatures]:
        """The features stage for ads already described."""
        started = time.perf_counter()
        from model.pipeline import encode

        arrays = encode(self.feature_extractor, images, descriptions)
        seconds = time.perf_counter() - started
        return [AdFeatures(ad=AdHeader.of(ad), description=description, encoder=self.feature_extractor.name,
                           features=features_tensor(array), stage_seconds={**stages, "features": seconds})
                for ad, description, array, stages in zip(ads, descriptions, arrays, stage_seconds)]

    def describe_ads(self, batch: Sequence[AdUploaded]) -> tuple[list[Described], float]:
        """The describe stage for uploaded ads in this process, with its wall seconds."""
        from model.pipeline import describe

        started = time.perf_counter()
        described = describe(self.describer, [image_source(ad) for ad in batch])
        return described, time.perf_counter() - started

    def encode_ads(self, batch: Sequence[AdUploaded], described: Sequence[Described], seconds: float
                   ) -> list[AdFeatures]:
        """The features stage for ads :meth:`describe_ads` described in ``seconds``."""
        return self.features(batch, [item.loaded.image for item in described],
                             [item.description for item in described], [{"describe": seconds}] * len(batch))

    def predict(self, batch: Sequence[AdUploaded]) -> list[AdSentiment]:
        """Describe, encode and classify a batch of uploaded ads in this process."""
        if not batch:
            return []
        described, seconds = self.describe_ads(batch)
        return self.classify(self.encode_ads(batch, described, seconds))


def image_source(ad: AdUploaded) -> bytes | Path:
    """Inline bytes, or the path of a ``file:`` URI (other schemes are fetched by the streams)."""
    if ad.image.data is not None:
        return ad.image.data
    uri = ad.image.uri or ""
    if uri.startswith("file:"):
        return Path(uri.removeprefix("file://").removeprefix("file:"))
    raise ModelError(ModelErrorCode.BAD_INPUT, f"ad {ad.ad_id}: fetch {uri!r} before predict (only inline images "
                     "and file: URIs are read here)")


def generated_texts(description: Description) -> GeneratedTexts:
    return GeneratedTexts(caption=description.caption, faces=tuple(f.text for f in description.faces),
                          ocr=description.ocr.text)
