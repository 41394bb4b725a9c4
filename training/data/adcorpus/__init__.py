"""adcorpus: ads written one by one by the team, with image-side labels (see README.md here).

Splits: ``train`` and ``dev`` (32 categories), ``test`` (the same categories, written apart in
other voices and wording: the unseen-wording split) and ``test_category`` (6 whole categories
absent from train and dev). The split files are built from ``source/`` by
``python -m training.data.adcorpus.build``; images are rendered by
``python -m training.data.render_ads --data training/data/adcorpus --splits train dev test test_category --out DIR``
(``adsent train --dataset ads`` renders what is missing into the state dir).
"""

from __future__ import annotations

from pathlib import Path

ADCORPUS_DIR = Path(__file__).parent
SOURCE_DIR = ADCORPUS_DIR / "source"
SPLITS = ("train", "dev", "test", "test_category")
TEST_SPLITS = ("test", "test_category")
