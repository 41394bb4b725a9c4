"""ANP teachers: the target distribution over the 2,089 DeepSentiBank ANPs that Eq. 8 trains toward.

The paper takes the targets from DeepSentiBank, a CNN trained on Flickr images for these ANPs.
Those weights do not ship in any package here, so the teacher is pluggable:

- :class:`DistributionFileTeacher` reads the outputs of a DeepSentiBank-compatible detector run
  elsewhere: a ``.npz`` whose keys are image sha256 digests (or file names) and whose values are
  2,089 scores in the vocabulary's order (``model/data/anp``).
- :class:`WeakAnpTeacher` (the offline default) is a weak, documented substitute. It does not look
  at the image's pixels beyond colour statistics: it scores every ANP by the cosine similarity
  between the ANP phrase ("adjective noun") and the image's generated texts (caption, face
  descriptions, OCR), both embedded with the offline MiniLM sentence encoder (mean pooling),
  plus a colour-mood term (bright, saturated images favour ANPs of positive VSO sentiment, dark
  and grey ones negative ANPs), then takes a softmax with a temperature. It teaches the ANP head
  to agree with what the describe stage saw, not what DeepSentiBank would have detected.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from PIL import Image

from model.anp import AnpVocabulary, load_anp_vocabulary
from model.config import TextConfig
from schemas.description import Description

log = logging.getLogger(__name__)


class AnpTeacher(Protocol):
    """Gives each image a distribution over the ANP vocabulary (rows sum to 1)."""

    name: str

    def distributions(self, images: Sequence[Path], descriptions: Sequence[Description]) -> np.ndarray:
        """``(N, A)`` float32."""


class TeacherError(ValueError):
    """A teacher file is missing, malformed or does not cover an image."""


@dataclass(frozen=True)
class WeakTeacherConfig:
    temperature: float = 0.05  # softmax temperature over cosine similarities
    colour_weight: float = 0.5  # weight of the colour-mood term (cosine units)
    colour_side: int = 64  # images are shrunk to this side for colour statistics
    batch_size: int = 256  # ANP phrases per encoder pass


class WeakAnpTeacher:
    """The offline teacher: text similarity of ANPs to the generated texts + colour mood."""

    name = "weak-text-colour"

    def __init__(self, config: WeakTeacherConfig = WeakTeacherConfig(), text: TextConfig = TextConfig(),
                 vocabulary: AnpVocabulary | None = None) -> None:
        from model.fusion.encoder import load_text_encoder

        self.config = config
        self.vocabulary = vocabulary or load_anp_vocabulary()
        self.encoder, self.tokenizer = load_text_encoder(text)
        self.encoder.eval()
        phrases = [f"{a.adjective} {a.noun}" for a in self.vocabulary.anps]
        self.anp_embeddings = self._embed(phrases)  # (A, H)
        scores = np.array([a.score or 0.0 for a in self.vocabulary.anps], np.float32)
        self.anp_sentiment = torch.from_numpy(np.clip(scores / 2.0, -1.0, 1.0))  # VSO in [-2, 2] -> [-1, 1]

    @torch.inference_mode()
    def _embed(self, texts: Sequence[str]) -> torch.Tensor:
        """Unit-length mean-pooled sentence embeddings ``(N, H)``."""
        rows = []
        for first in range(0, len(texts), self.config.batch_size):
            enc = self.tokenizer(list(texts[first:first + self.config.batch_size]), padding=True, truncation=True,
                                 max_length=128, return_tensors="pt")
            hidden = self.encoder(**enc).last_hidden_state
            weights = enc["attention_mask"].unsqueeze(2).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)
            rows.append(torch.nn.functional.normalize(pooled, dim=1))
        return torch.cat(rows)

    def colour_mood(self, path: Path | None) -> float:
        """((mean value + mean saturation) / 2 - 0.5) * 2, in [-1, 1]; 0 without an image."""
        if path is None:
            return 0.0
        with Image.open(path) as image:
            small = image.convert("HSV").resize((self.config.colour_side, self.config.colour_side))
        hsv = np.asarray(small, np.float32) / 255.0
        return float(hsv[..., 1].mean() + hsv[..., 2].mean() - 1.0)

    def distributions(self, images: Sequence[Path | None], descriptions: Sequence[Description]) -> np.ndarray:
        texts = [generated_text(d) for d in descriptions]
        similarity = self._embed(texts) @ self.anp_embeddings.T  # (N, A)
        mood = torch.tensor([self.colour_mood(p) for p in images], dtype=torch.float32).unsqueeze(1)
        logits = (similarity + self.config.colour_weight * mood * self.anp_sentiment) / self.config.temperature
        return torch.softmax(logits, dim=1).numpy().astype(np.float32)


def generated_text(description: Description) -> str:
    """The caption, face descriptions and OCR text of one image as one string."""
    parts = [description.caption, *(f.text for f in description.faces), description.ocr.text]
    return ". ".join(p for p in parts if p and p.strip()) or "an image"


class DistributionFileTeacher:
    """Pre-computed DeepSentiBank(-compatible) outputs from a ``.npz`` keyed by sha256 or file name."""

    name = "distribution-file"

    def __init__(self, path: Path, vocabulary: AnpVocabulary | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise TeacherError(f"ANP teacher file {self.path} does not exist")
        self.size = len(vocabulary or load_anp_vocabulary())
        with np.load(self.path, allow_pickle=False) as data:
            self.table = {key: np.asarray(data[key], np.float32) for key in data.files}
        bad = [k for k, v in self.table.items() if v.shape != (self.size,)]
        if bad:
            raise TeacherError(f"{self.path}: entries {bad[:3]} do not hold {self.size} ANP scores")

    def distributions(self, images: Sequence[Path | None], descriptions: Sequence[Description]) -> np.ndarray:
        import hashlib

        rows = []
        for path in images:
            if path is None:
                raise TeacherError("the distribution-file teacher needs an image for every example")
            key = path.name if path.name in self.table else hashlib.sha256(path.read_bytes()).hexdigest()
            if key not in self.table:
                raise TeacherError(f"{self.path} has no scores for image {path}")
            row = np.clip(self.table[key], 0.0, None)
            rows.append(row / max(float(row.sum()), 1e-12))
        return np.stack(rows).astype(np.float32)


def build_teacher(path: Path | None, text: TextConfig = TextConfig()) -> AnpTeacher:
    """The distribution-file teacher when ``path`` is given, else the weak offline teacher."""
    return DistributionFileTeacher(path) if path is not None else WeakAnpTeacher(text=text)
