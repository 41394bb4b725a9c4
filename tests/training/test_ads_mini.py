"""The committed ads-mini splits: size, variety, label mix, stratification, reproducible build."""

from __future__ import annotations

from collections import Counter

from training.data.ads_mini import ADS_MINI_DIR, SPLITS, load_ads_mini
from training.data.ads_mini.build import build, parse_markup
from training.data.jsonl import read_records

MIN_ADS = 600
MIN_CATEGORIES = 12
MAX_SHARE_OF_ONE_LABEL = 0.7


def _all():
    return {split: load_ads_mini(split) for split in SPLITS}


def test_size_distinct_texts_and_categories():
    splits = _all()
    examples = [e for split in splits.values() for e in split]
    assert len(examples) >= MIN_ADS
    assert len({e.text for e in examples}) == len(examples)
    assert len({e.example_id for e in examples}) == len(examples)
    assert len({e.category for e in examples}) >= MIN_CATEGORIES
    for split, items in splits.items():  # stratified: every category in every split
        assert {e.category for e in items} == {e.category for e in examples}, split


def test_label_mix_is_sensible():
    examples = [e for split in _all().values() for e in split]
    overall = Counter(e.overall for e in examples)
    aspects = Counter(a.sentiment for e in examples for a in e.aspects)
    for counts in (overall, aspects):
        assert set(counts) == {"positive", "neutral", "negative"}
        assert max(counts.values()) / sum(counts.values()) <= MAX_SHARE_OF_ONE_LABEL
    assert all(e.aspects for e in examples)


def test_committed_files_equal_a_fresh_build():
    built = build()
    for split in SPLITS:
        assert read_records(ADS_MINI_DIR / f"{split}.jsonl") == built[split]


def test_markup_offsets():
    text, spans = parse_markup("The [battery life|+] is long and the [price|-] high.")
    assert text == "The battery life is long and the price high."
    assert [(text[s.start:s.end], s.sentiment) for s in spans] == [("battery life", "positive"), ("price", "negative")]
