"""Check authored ad-corpus source files: ``python3 training/data/adcorpus/check.py FILE...``.

Pure standard library, so writers can run it anywhere. One JSON object per line:

    {"tones": ["promotional", "price"], "text": "...", "aspects": [["battery life", "pos"], ...],
     "overall": "pos", "slogan": "Cold pizza again?", "slogan_aspects": [["pizza", "neg"]],
     "people": false}

An aspect is ``[term, sentiment]`` or ``[term, sentiment, dimension]``: sentiment ``pos`` /
``neu`` / ``neg``; dimension ``object`` (default), ``color`` or ``scene``. Aspects are listed in
the order they appear; each entry takes the next whole-word occurrence of its term (exact case)
after the previous entry. Every whole-word occurrence of a listed term must be listed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

SENTIMENTS = {"pos": "positive", "neu": "neutral", "neg": "negative"}
DIMENSIONS = ("object", "color", "scene")
TONES = frozenset({"promotional", "informational", "notice", "fear", "sadness", "humour", "comparison",
                   "negation", "question", "price", "emoji", "hashtag", "mixed", "testimonial", "urgency"})
FIELDS = {"tones", "text", "aspects", "overall", "slogan", "slogan_aspects", "people"}
REQUIRED = {"tones", "text", "aspects", "overall", "slogan", "slogan_aspects"}
SLOGAN_CHARS = re.compile(r"^[A-Za-z0-9 .,!?'%&$:;+\-/€£]+$")
MAX_SLOGAN_WORDS = 8


def word_occurrences(text: str, term: str, ignore_case: bool = False) -> list[int]:
    """Starts of the whole-word occurrences of ``term`` in ``text``."""
    flags = re.IGNORECASE if ignore_case else 0
    pattern = r"(?<![\w])" + re.escape(term) + r"(?![\w])"
    return [m.start() for m in re.finditer(pattern, text, flags)]


def resolve_spans(text: str, aspects: list) -> tuple[list[tuple[int, int, str, str, str]], list[str]]:
    """``[(start, end, term, sentiment, dimension)]`` of the listed aspects, and the problems found."""
    spans, problems, cursor = [], [], 0
    for entry in aspects:
        if not isinstance(entry, list) or len(entry) not in (2, 3) or not all(isinstance(x, str) for x in entry):
            problems.append(f"aspect {entry!r} is not [term, sentiment] or [term, sentiment, dimension]")
            continue
        term, sentiment = entry[0], entry[1]
        dimension = entry[2] if len(entry) == 3 else "object"
        if sentiment not in SENTIMENTS:
            problems.append(f"aspect {term!r}: sentiment {sentiment!r} is not one of pos/neu/neg")
        if dimension not in DIMENSIONS:
            problems.append(f"aspect {term!r}: dimension {dimension!r} is not one of {', '.join(DIMENSIONS)}")
        if term != term.strip() or not term:
            problems.append(f"aspect {term!r}: empty or padded with spaces")
            continue
        later = [s for s in word_occurrences(text, term) if s >= cursor]
        if not later:
            where = "at all" if not word_occurrences(text, term) else "after the previous aspect (list in order)"
            problems.append(f"aspect {term!r} not found as whole words {where}")
            continue
        start = later[0]
        spans.append((start, start + len(term), term, SENTIMENTS.get(sentiment, sentiment), dimension))
        cursor = start + len(term)
    covered = {(s, e) for s, e, *_ in spans}
    for term in {s[2] for s in spans}:
        for start in word_occurrences(text, term, ignore_case=True):
            end = start + len(term)
            if (start, end) not in covered and not any(s <= start < e for s, e, *_ in spans):
                problems.append(f"term {term!r} occurs again at {start} untagged: list every occurrence")
    return spans, problems


def check_ad(ad: object) -> list[str]:
    if not isinstance(ad, dict):
        return ["not a JSON object"]
    problems = [f"missing field {f!r}" for f in sorted(REQUIRED - ad.keys())]
    problems += [f"unknown field {f!r}" for f in sorted(ad.keys() - FIELDS)]
    if problems:
        return problems
    text, slogan = ad["text"], ad["slogan"]
    if not isinstance(text, str) or not (20 <= len(text) <= 1200):
        problems.append("text must be a string of 20-1200 characters")
        return problems
    if not isinstance(ad["tones"], list) or not ad["tones"] or set(ad["tones"]) - TONES:
        problems.append(f"tones must be a non-empty list of {sorted(TONES)}")
    if ad["overall"] not in SENTIMENTS:
        problems.append("overall must be pos, neu or neg")
    if "people" in ad and not isinstance(ad["people"], bool):
        problems.append("people must be true or false")
    problems += resolve_spans(text, ad["aspects"])[1]
    if not isinstance(slogan, str) or not SLOGAN_CHARS.match(slogan) or len(slogan.split()) > MAX_SLOGAN_WORDS:
        problems.append(f"slogan must be 1-{MAX_SLOGAN_WORDS} words of plain letters, digits and punctuation")
    else:
        if slogan.strip().lower() in text.lower():
            problems.append("slogan must not be copied from the text")
        problems += [f"slogan: {p}" for p in resolve_spans(slogan, ad["slogan_aspects"])[1]]
    return problems


def shingles(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def check_file(path: Path) -> tuple[int, int]:
    """Print the problems of one file; return (ads, ads with problems)."""
    ads, bad, seen_text, grams = 0, 0, {}, defaultdict(list)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        ads += 1
        try:
            ad = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{path}:{number}: invalid JSON: {exc}")
            bad += 1
            continue
        problems = check_ad(ad)
        if isinstance(ad, dict) and isinstance(ad.get("text"), str):
            key = " ".join(ad["text"].lower().split())
            if key in seen_text:
                problems.append(f"same text as line {seen_text[key]}")
            seen_text[key] = number
            for gram in shingles(ad["text"]):
                grams[gram].append(number)
        for problem in problems:
            print(f"{path}:{number}: {problem}")
        bad += bool(problems)
    shared = {g: lines for g, lines in grams.items() if len(set(lines)) > 1}
    for gram, lines in sorted(shared.items(), key=lambda kv: kv[1])[:20]:
        print(f"{path}: note: lines {sorted(set(lines))} share the words {' '.join(gram)!r}: vary the wording")
    return ads, bad


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    total = failing = 0
    for name in argv:
        ads, bad = check_file(Path(name))
        total, failing = total + ads, failing + bad
    print(f"{total} ads checked, {failing} with problems")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
