"""ads-mini: 630 hand-written ad copies over 14 product categories (see README.md here)."""

from __future__ import annotations

from pathlib import Path

from training.data.examples import JmasaExample
from training.data.jsonl import load_jsonl

ADS_MINI_DIR = Path(__file__).parent
SPLITS = ("train", "dev", "test")


def load_ads_mini(split: str, images_dir: Path | str | None = None) -> list[JmasaExample]:
    """One split of ads-mini; ``images_dir`` is the ``--out`` of ``training.data.render_ads``
    (the records' ``image`` fields are ``images/<ad_id>.png`` relative to it)."""
    return load_jsonl(ADS_MINI_DIR / f"{split}.jsonl", images_dir)
