"""Measure OCR on synthetic ads with known slogans: character accuracy and word recall.

    python -m training.ocr_eval --out results.json [--count 48] [--seed 0]

Writes JSON (per engine/preprocessing: means, per-kind means, seconds per image) and a Markdown
table beside it (same name, ``.md``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from model.describe.config import DescribeConfig
from model.describe.ocr import RapidOcr, TesseractOcr
from training.data.render_ads import generate_ocr_ads

log = logging.getLogger(__name__)
VARIANTS = ("tesseract/plain", "tesseract/upscale", "tesseract/adaptive", "tesseract/two_pass",
            "tesseract/text_regions", "rapidocr")


def normalise(text: str) -> str:
    """Case-folded, single-spaced: what the sentiment model sees matters, not line breaks."""
    return " ".join(text.lower().split())


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9%]+", text.lower())


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def char_accuracy(truth: str, read: str) -> float:
    """1 - character error rate, floored at 0."""
    truth, read = normalise(truth), normalise(read)
    return max(0.0, 1.0 - levenshtein(truth, read) / max(len(truth), 1))


def word_recall(truth: str, read: str) -> float:
    """Share of the true words (as a multiset) that were read."""
    wanted, got = Counter(words_of(truth)), Counter(words_of(read))
    return sum(min(n, got[w]) for w, n in wanted.items()) / max(sum(wanted.values()), 1)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract runs as a child process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def build(variant: str, config: DescribeConfig):
    if variant == "rapidocr":
        return RapidOcr(replace(config, ocr_engine="rapidocr"))
    return TesseractOcr(config, preprocess=variant.split("/", 1)[1])


def evaluate(variants: tuple[str, ...], count: int, seed: int, config: DescribeConfig) -> dict:
    ads = list(generate_ocr_ads(count, seed))
    report: dict = {"count": len(ads), "seed": seed, "variants": {}}
    for variant in variants:
        engine = build(variant, config)
        rows, seconds = [], 0.0
        for ad in tqdm(ads, desc=variant, leave=False):
            start = cpu_seconds()
            read = engine.read(ad.image).text
            seconds += cpu_seconds() - start
            rows.append({"kind": ad.kind, "truth": ad.text, "read": read,
                         "char_accuracy": char_accuracy(ad.text, read), "word_recall": word_recall(ad.text, read)})
        by_kind: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            by_kind[row["kind"]].append(row)
        mean = lambda items, key: sum(r[key] for r in items) / len(items)  # noqa: E731
        report["variants"][variant] = {
            "engine": engine.name,
            "char_accuracy": mean(rows, "char_accuracy"), "word_recall": mean(rows, "word_recall"),
            "cpu_seconds_per_image": seconds / len(rows),
            "by_kind": {k: {"char_accuracy": mean(v, "char_accuracy"), "word_recall": mean(v, "word_recall")}
                        for k, v in sorted(by_kind.items())},
            "images": rows,
        }
        log.info("%s: char accuracy %.3f, word recall %.3f", variant, report["variants"][variant]["char_accuracy"],
                 report["variants"][variant]["word_recall"])
    return report


def markdown(report: dict) -> str:
    kinds = sorted(next(iter(report["variants"].values()))["by_kind"])
    head = "| engine / preprocessing | char acc. | word recall | CPU s/image | " + " | ".join(
        f"{k} (c / w)" for k in kinds) + " |"
    lines = [head, "|" + "---|" * (4 + len(kinds))]
    for variant, r in report["variants"].items():
        cells = [f"{r['by_kind'][k]['char_accuracy']:.2f} / {r['by_kind'][k]['word_recall']:.2f}" for k in kinds]
        lines.append(f"| {variant} | {r['char_accuracy']:.3f} | {r['word_recall']:.3f} | "
                     f"{r['cpu_seconds_per_image']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="JSON results file (a .md table is written beside it)")
    parser.add_argument("--count", type=int, default=48, help="number of synthetic ads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    report = evaluate(tuple(args.variants), args.count, args.seed, DescribeConfig())
    args.out.write_text(json.dumps(report, indent=2))
    args.out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))  # the table is the command's output


if __name__ == "__main__":
    main()
