"""Figures of the adcorpus splits, and the checks that keep them apart: ``python -m training.data.adcorpus.stats``.

- ``shared_sentences``: sentences (case and whitespace normalised) found in two splits; the
  split test requires none.
- ``near_duplicates``: ads of an evaluation split sharing a word 5-gram with an ad of train, a
  report of how close the splits' wording is (names and stock phrases make a few expected).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from schemas.dataset import AdRecord
from training.data.adcorpus import ADCORPUS_DIR
from training.data.bundled import BUNDLED

_SENTENCE_END = re.compile(r"\s+[-•–]\s+|(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
NGRAM = 5


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def sentences(text: str) -> list[str]:
    """The ad copy cut into sentences (and list items), normalised; very short pieces are skipped."""
    return [normalise(s) for s in _SENTENCE_END.split(text) if len(_WORD.findall(s.lower())) >= 3]


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def load_records() -> dict[str, list[AdRecord]]:
    from training.data.jsonl import read_records

    data = BUNDLED["ads"]
    return {split: read_records(data.path(split)) for split in data.splits}


def shared_sentences(splits: dict[str, list[AdRecord]]) -> dict[str, list[str]]:
    """Sentence -> the ad ids of the different splits that contain it (only sentences in two or more splits)."""
    where: dict[str, dict[str, str]] = defaultdict(dict)
    for split, records in splits.items():
        for record in records:
            for sentence in sentences(record.text):
                where[sentence].setdefault(split, record.ad_id)
    return {s: sorted(ids.values()) for s, ids in where.items() if len(ids) > 1}


def near_duplicates(splits: dict[str, list[AdRecord]], reference: str = "train") -> dict[str, dict]:
    """Per evaluation split: how many ads share a word 5-gram with the reference split, and examples."""
    seen: dict[tuple[str, ...], str] = {}
    for record in splits[reference]:
        for gram in ngrams(record.text):
            seen.setdefault(gram, record.ad_id)
    report = {}
    for split, records in splits.items():
        if split == reference:
            continue
        hits = [(r.ad_id, seen[g], " ".join(g)) for r in records for g in sorted(ngrams(r.text)) if g in seen]
        ads = {ad for ad, _, _ in hits}
        report[split] = {"ads": len(records), "ads_sharing_a_5gram": len(ads),
                         "share": len(ads) / len(records) if records else 0.0, "examples": hits[:10]}
    return report


def describe_splits(splits: dict[str, list[AdRecord]]) -> list[dict]:
    """One row of figures per split (and a total)."""
    rows = []
    for split, records in list(splits.items()) + [("all", [r for rs in splits.values() for r in rs])]:
        aspects = [a for r in records for a in r.aspects]
        rows.append({
            "split": split, "ads": len(records), "categories": len({r.category for r in records}),
            "overall": Counter(r.overall for r in records),
            "aspects_by_segment": Counter(a.segment for a in aspects),
            "sentiment": Counter(a.sentiment for a in aspects if a.segment == "ad_copy"),
            "multiword": sum(1 for a in aspects if a.segment == "ad_copy" and " " in a.term),
            "real_faces": sum(1 for r in records if _has_face(r) and not r.template_segments),
            "template_faces": sum(1 for r in records if _has_face(r) and r.template_segments),
        })
    return rows


def _has_face(record: AdRecord) -> bool:
    return any(a.segment == "face" for a in record.aspects)


def tone_counts(records: Iterable[AdRecord]) -> Counter:
    return Counter(t for r in records for t in r.tones)


def _pns(counter: Counter) -> str:
    return " / ".join(str(counter.get(k, 0)) for k in ("positive", "neutral", "negative"))


def markdown(splits: dict[str, list[AdRecord]]) -> str:
    """The data card's tables."""
    lines = ["| split | ads | categories | overall pos / neu / neg | ad-copy aspects pos / neu / neg | multi-word "
             "| OCR / face / caption labels | real / template faces |", "|---|---|---|---|---|---|---|---|"]
    for row in describe_splits(splits):
        seg = row["aspects_by_segment"]
        lines.append(f"| {row['split']} | {row['ads']} | {row['categories']} | {_pns(row['overall'])} | "
                     f"{_pns(row['sentiment'])} | {row['multiword']} | {seg['ocr']} / {seg['face']} / "
                     f"{seg['caption']} | {row['real_faces']} / {row['template_faces']} |")
    tones = tone_counts(r for rs in splits.values() for r in rs)
    lines += ["", "Tones (an ad may have several): " + ", ".join(f"{t} {n}" for t, n in tones.most_common()) + "."]
    shared = shared_sentences(splits)
    near = near_duplicates(splits)
    lines += ["", f"Sentences shared between splits: {len(shared)}."]
    for split, figures in near.items():
        lines.append(f"- {split}: {figures['ads_sharing_a_5gram']} of {figures['ads']} ads "
                     f"({100 * figures['share']:.1f} %) share a word 5-gram with a training ad.")
    return "\n".join(lines)


def write_card(table: str) -> Path:
    """Put ``table`` between the stats markers of the data card."""
    card = ADCORPUS_DIR / "README.md"
    text = card.read_text(encoding="utf-8")
    start, end = "<!-- stats:start -->\n", "\n<!-- stats:end -->"
    head, rest = text.split(start, 1)
    card.write_text(head + start + table + end + rest.split(end, 1)[1], encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Figures of the adcorpus splits (Markdown).")
    parser.add_argument("--write-card", action="store_true", help="also write them into the data card README.md")
    args = parser.parse_args(argv)
    table = markdown(load_records())
    print(table)
    if args.write_card:
        print(f"wrote {write_card(table)}")


if __name__ == "__main__":
    main()
