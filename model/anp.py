"""The 2,089 DeepSentiBank adjective-noun pairs with their VSO sentiment (Eq. 7).

The vocabulary ships as package data in ``model/data/anp/`` (see its README for sources and
licence). The index order is the detector's output order, so ANP head logit ``i`` is ANP ``i``.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from schemas.base import Sentiment

ANP_FILE = "deepsentibank_anps.tsv"
# VSO scores lie in [-2, 2]; within this band around zero an ANP counts as neutral.
NEUTRAL_BAND = 0.25


@dataclass(frozen=True)
class Anp:
    index: int
    name: str
    adjective: str
    noun: str
    score: float | None  # VSO sentiment, None where the ontology has none

    @property
    def sentiment(self) -> Sentiment:
        if self.score is None or abs(self.score) < NEUTRAL_BAND:
            return "neutral"
        return "positive" if self.score > 0 else "negative"


@dataclass(frozen=True)
class AnpVocabulary:
    anps: tuple[Anp, ...]
    sha256: str  # of the TSV file: a checkpoint records it so its ANP head keeps its meaning

    def __len__(self) -> int:
        return len(self.anps)

    def __getitem__(self, index: int) -> Anp:
        return self.anps[index]


@lru_cache(maxsize=1)
def load_anp_vocabulary() -> AnpVocabulary:
    raw = (files("model") / "data" / "anp" / ANP_FILE).read_bytes()
    rows = csv.DictReader(raw.decode("utf-8").splitlines(), delimiter="\t")
    anps = tuple(
        Anp(index=int(r["index"]), name=r["anp"], adjective=r["adjective"], noun=r["noun"],
            score=float(r["sentiment"]) if r["sentiment"] else None)
        for r in rows)
    if [a.index for a in anps] != list(range(len(anps))):
        raise ValueError(f"{ANP_FILE}: indices are not 0..{len(anps) - 1} in order")
    return AnpVocabulary(anps=anps, sha256=hashlib.sha256(raw).hexdigest())
