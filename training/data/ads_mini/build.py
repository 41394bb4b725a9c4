"""Build ads-mini (``python -m training.data.ads_mini.build``) from the hand-written phrases.

Each ad combines a category's sentences under one appeal -- promotional (overall positive),
informational (neutral) or fear / sadness (negative) -- with a headline, a call to action and a
brand sign-off in several layouts. The seed fixes every choice, so a rebuild is identical.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from schemas.dataset import AdRecord, AspectRecord
from training.data.ads_mini.phrases import APPEAL_MIX, CATEGORIES, DEFAULT_APPEAL_MIX
from training.data.jsonl import write_jsonl

log = logging.getLogger(__name__)

MARKUP = re.compile(r"\[([^\[\]|]+)\|([+0-])\]")
SIGN = {"+": "positive", "0": "neutral", "-": "negative"}
APPEAL_OVERALL = {"promotional": "positive", "informational": "neutral", "fear": "negative"}


@dataclass(frozen=True)
class BuildConfig:
    """Sizes and seed of the build."""

    ads_per_category: int = 45
    dev_per_category: int = 7
    test_per_category: int = 7
    seed: int = 2025
    max_attempts_per_ad: int = 200


def parse_markup(marked: str) -> tuple[str, list[AspectRecord]]:
    """Plain text and aspect spans of a ``[term|+]``-marked string."""
    text, spans, cursor = [], [], 0
    length = 0
    for match in MARKUP.finditer(marked):
        before = marked[cursor:match.start()]
        text.append(before)
        length += len(before)
        term = match.group(1)
        spans.append(AspectRecord(start=length, end=length + len(term), term=term,
                                  sentiment=SIGN[match.group(2)]))
        text.append(term)
        length += len(term)
        cursor = match.end()
    text.append(marked[cursor:])
    return "".join(text), spans


def _sign_off(rng: random.Random, brand: str, appeal: str) -> tuple[str, bool]:
    """A brand line and whether it goes first."""
    options = [(f"{brand}.", False), (f"— {brand}", False), (f"From {brand}.", False),
               (f"{brand}:", True), ("", False)]
    if appeal != "fear":
        options.append((f"New from {brand}.", True))
    return rng.choice(options)


def compose(rng: random.Random, bank: dict[str, list[str]], appeal: str) -> str:
    """One marked-up ad copy of the given appeal."""
    brand = rng.choice(bank["brands"])
    sentences: list[str] = []
    if appeal == "promotional":
        if rng.random() < 0.3:  # problem, then the product as the answer
            sentences += [rng.choice(bank["headline_negative"]), rng.choice(bank["negative"]),
                          rng.choice(bank["relief"])]
            sentences += rng.sample(bank["positive"], rng.randint(1, 2))
        else:
            if rng.random() < 0.7:
                sentences.append(rng.choice(bank["headline_positive"]))
            body = rng.sample(bank["positive"], rng.randint(1, 3))
            if rng.random() < 0.25:
                body.insert(rng.randint(0, len(body)), rng.choice(bank["neutral"]))
            sentences += body
        sentences.append(rng.choice(bank["cta_positive"]))
    elif appeal == "informational":
        if rng.random() < 0.6:
            sentences.append(rng.choice(bank["headline_neutral"]))
        sentences += rng.sample(bank["neutral"], rng.randint(1, 3))
        if rng.random() < 0.6:
            sentences.append(rng.choice(bank["cta_neutral"]))
    else:
        if rng.random() < 0.75:
            sentences.append(rng.choice(bank["headline_negative"]))
        sentences += rng.sample(bank["negative"], rng.randint(1, 2))
        if rng.random() < 0.3:
            sentences.append(rng.choice(bank["neutral"]))
        if rng.random() < 0.5:
            sentences.append(rng.choice(bank["relief"]))
        sentences.append(rng.choice(bank["cta_negative"]))
    sign, first = _sign_off(rng, brand, appeal)
    if sign and first:
        sentences.insert(0, sign)
    elif sign:
        sentences.append(sign)
    return " ".join(sentences).replace("{brand}", brand)


def choose_appeal(rng: random.Random, category: str) -> str:
    promo, info, _ = APPEAL_MIX.get(category, DEFAULT_APPEAL_MIX)
    roll = rng.random()
    return "promotional" if roll < promo else "informational" if roll < promo + info else "fear"


def build_category(rng: random.Random, category: str, config: BuildConfig, taken: set[str]) -> list[AdRecord]:
    """``config.ads_per_category`` distinct ads of one category."""
    bank = CATEGORIES[category]
    slug = category.replace(" ", "-")
    records: list[AdRecord] = []
    attempts = 0
    while len(records) < config.ads_per_category:
        attempts += 1
        if attempts > config.max_attempts_per_ad * config.ads_per_category:
            raise RuntimeError(f"cannot compose {config.ads_per_category} distinct '{category}' ads")
        appeal = choose_appeal(rng, category)
        text, aspects = parse_markup(compose(rng, bank, appeal))
        if text in taken:
            continue
        taken.add(text)
        ad_id = f"adsmini-{slug}-{len(records):03d}"
        records.append(AdRecord(ad_id=ad_id, image=f"images/{ad_id}.png", text=text, aspects=aspects,
                                overall=APPEAL_OVERALL[appeal], category=category))
    return records


def build(config: BuildConfig = BuildConfig()) -> dict[str, list[AdRecord]]:
    """Train / dev / test records, stratified by category."""
    rng = random.Random(config.seed)
    splits: dict[str, list[AdRecord]] = {"train": [], "dev": [], "test": []}
    taken: set[str] = set()
    for category in CATEGORIES:
        records = build_category(rng, category, config, taken)
        order = list(range(len(records)))
        rng.shuffle(order)
        dev_end = config.dev_per_category
        test_end = dev_end + config.test_per_category
        splits["dev"] += [records[i] for i in sorted(order[:dev_end])]
        splits["test"] += [records[i] for i in sorted(order[dev_end:test_end])]
        splits["train"] += [records[i] for i in sorted(order[test_end:])]
    return splits


def label_stats(records: list[AdRecord]) -> dict[str, Counter]:
    """Overall labels, aspect sentiments and categories of some records."""
    return {"overall": Counter(r.overall for r in records),
            "aspects": Counter(a.sentiment for r in records for a in r.aspects),
            "category": Counter(r.category for r in records)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the ads-mini JSONL splits from the hand-written phrases.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="directory of {train,dev,test}.jsonl")
    parser.add_argument("--seed", type=int, default=BuildConfig.seed, help="random seed of every choice")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for split, records in build(BuildConfig(seed=args.seed)).items():
        count = write_jsonl(records, args.out / f"{split}.jsonl")
        stats = label_stats(records)
        log.info("%s: %d ads, overall %s, aspects %s", split, count, dict(stats["overall"]), dict(stats["aspects"]))


if __name__ == "__main__":
    main()
