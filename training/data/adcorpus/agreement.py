"""Label quality: a second, blind labelling pass over a sample of adcorpus, and its agreement.

    python -m training.data.adcorpus.agreement sample --out blind.jsonl [--n 150]
    python -m training.data.adcorpus.agreement score --second second_pass.jsonl [--json report.json]

``sample`` writes the ad copy and slogan of a stratified sample (every split, every category)
without labels. A second labeller labels them by GUIDELINES.md alone, in the source format
(``id``, ``aspects``, ``slogan_aspects``, ``overall``). ``score`` compares the two passes:

- aspect-span F1: spans (exact character boundaries) of one pass against the other's;
- sentiment agreement: share of the spans found by both passes with the same sentiment, and
  Cohen's kappa over them;
- overall agreement: share of ads with the same overall label, and kappa;

and lists every disagreement, so that it can be resolved and the conventions sharpened.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from training.data.adcorpus.check import resolve_spans
from training.data.adcorpus.stats import load_records

SAMPLE_SEED = 2026
SENTIMENT = {"pos": "positive", "neu": "neutral", "neg": "negative"}


def sample_ids(n: int, seed: int = SAMPLE_SEED) -> list[str]:
    """``n`` ad ids spread over every split and category (round robin over shuffled categories)."""
    rng = random.Random(seed)
    by_category: dict[tuple[str, str], list[str]] = {}
    for split, records in load_records().items():
        for record in records:
            by_category.setdefault((split, record.category or ""), []).append(record.ad_id)
    pools = [rng.sample(ids, len(ids)) for _, ids in sorted(by_category.items())]
    rng.shuffle(pools)
    chosen: list[str] = []
    while len(chosen) < n and any(pools):
        for pool in pools:
            if pool and len(chosen) < n:
                chosen.append(pool.pop())
    return sorted(chosen)


def first_pass(ids: set[str]) -> dict[str, dict]:
    """The corpus labels of ``ids``: ad-copy spans, slogan spans and overall."""
    labels = {}
    for records in load_records().values():
        for r in records:
            if r.ad_id in ids:
                labels[r.ad_id] = {
                    "text": r.text, "slogan": r.generated.ocr, "overall": r.overall,
                    "spans": {(a.segment, a.start, a.end): a.sentiment for a in r.aspects if a.segment in ("ad_copy", "ocr")}}
    return labels


def second_pass(path: Path, first: dict[str, dict]) -> dict[str, dict]:
    """The second labeller's labels, resolved to character spans like the first pass."""
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        ad = json.loads(line)
        text, slogan = first[ad["id"]]["text"], first[ad["id"]]["slogan"]
        spans = {("ad_copy", s, e): sentiment for s, e, _, sentiment, _ in resolve_spans(text, ad["aspects"])[0]}
        spans |= {("ocr", s, e): sentiment for s, e, _, sentiment, _ in resolve_spans(slogan, ad["slogan_aspects"])[0]}
        labels[ad["id"]] = {"overall": SENTIMENT[ad["overall"]], "spans": spans}
    return labels


def kappa(pairs: list[tuple[str, str]]) -> float:
    """Cohen's kappa of two labellers over paired labels."""
    if not pairs:
        return float("nan")
    observed = sum(a == b for a, b in pairs) / len(pairs)
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[k] * right[k] for k in left) / len(pairs) ** 2
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement(first: dict[str, dict], second: dict[str, dict]) -> dict:
    """Span F1, sentiment and overall agreement of the ads both passes labelled, and the disagreements."""
    ids = sorted(second)
    both = only_first = only_second = 0
    sentiment_pairs, overall_pairs, disagreements = [], [], []
    for ad_id in ids:
        a, b = first[ad_id], second[ad_id]
        common = a["spans"].keys() & b["spans"].keys()
        both += len(common)
        only_first += len(a["spans"].keys() - common)
        only_second += len(b["spans"].keys() - common)
        sentiment_pairs += [(a["spans"][k], b["spans"][k]) for k in common]
        overall_pairs.append((a["overall"], b["overall"]))

        def show(spans: dict, text: str, slogan: str) -> list[str]:
            return sorted(f"{(text if seg == 'ad_copy' else slogan)[s:e]}/{seg}/{sent}" for (seg, s, e), sent in spans.items())

        differs = [k for k in common if a["spans"][k] != b["spans"][k]]
        if differs or a["spans"].keys() != b["spans"].keys() or a["overall"] != b["overall"]:
            disagreements.append({"id": ad_id, "text": a["text"], "slogan": a["slogan"],
                                  "first": show(a["spans"], a["text"], a["slogan"]) + [f"overall/{a['overall']}"],
                                  "second": show(b["spans"], a["text"], a["slogan"]) + [f"overall/{b['overall']}"]})
    precision = both / (both + only_second) if both + only_second else 0.0
    recall = both / (both + only_first) if both + only_first else 0.0
    return {
        "ads": len(ids),
        "span_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "spans_both": both, "spans_only_first": only_first, "spans_only_second": only_second,
        "sentiment_agreement": sum(x == y for x, y in sentiment_pairs) / len(sentiment_pairs) if sentiment_pairs else None,
        "sentiment_kappa": kappa(sentiment_pairs),
        "overall_agreement": sum(x == y for x, y in overall_pairs) / len(overall_pairs) if overall_pairs else None,
        "overall_kappa": kappa(overall_pairs),
        "disagreements": disagreements,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="write the blind sample (text and slogan, no labels)")
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--n", type=int, default=150)
    score = commands.add_parser("score", help="agreement of a second pass with the corpus labels")
    score.add_argument("--second", type=Path, required=True)
    score.add_argument("--json", type=Path, default=None, help="write the report (with every disagreement) here")
    args = parser.parse_args(argv)
    if args.command == "sample":
        ids = sample_ids(args.n)
        first = first_pass(set(ids))
        args.out.write_text("".join(json.dumps({"id": i, "text": first[i]["text"], "slogan": first[i]["slogan"]},
                                               ensure_ascii=False) + "\n" for i in ids), encoding="utf-8")
        print(f"wrote {len(ids)} ads to {args.out}")
        return
    first = first_pass({json.loads(line)["id"] for line in args.second.read_text().splitlines() if line.strip()})
    report = agreement(first, second_pass(args.second, first))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "disagreements"}, indent=2))
    print(f"{len(report['disagreements'])} ads with a disagreement")


if __name__ == "__main__":
    main()
