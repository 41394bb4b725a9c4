"""The unified aspect-sentiment tag format (E2E-ABSA review sets): ``sentence####tok=TAG tok=TAG ...``.

One sentence a line: the raw sentence, ``####``, then its tokens (split on spaces) each with a tag:
``O`` or ``T-POS`` / ``T-NEU`` / ``T-NEG``. Consecutive ``T-X`` tokens of the same sentiment form
one aspect term. Tokens are located in the raw sentence in order (``n't`` and punctuation are
tokens of their own; see :func:`token_offsets` for the punctuation the files changed), so every
span is a character range of the raw sentence.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

from schemas.base import Sentiment
from training.data.errors import DatasetError, DatasetErrorCode
from training.data.examples import AspectSpan, JmasaExample

log = logging.getLogger(__name__)
SEPARATOR = "####"
TAG_SENTIMENT: dict[str, Sentiment] = {"T-POS": "positive", "T-NEU": "neutral", "T-NEG": "negative"}
OUTSIDE = "O"


def token_offsets(sentence: str, tokens: list[str]) -> list[tuple[int, int] | None]:
    """``(start, end)`` of each token in ``sentence``, or None for a token with no counterpart.

    The files' tokens do not always spell the sentence: punctuation is dropped or changed ("L.A."
    -> "LA", "average...the" -> "averagethe", "-" -> ","), some words are lemmatised ("ordered"
    -> "order") and a few are left out. So the tokens' letters and digits are aligned with the
    sentence's (``difflib``), a token covers the sentence characters its own were matched to,
    widened to whole words, and a punctuation token is found where it stands.
    """
    raw = [i for i, c in enumerate(sentence) if c.isalnum()]
    owner = [t for t, token in enumerate(tokens) for c in token if c.isalnum()]
    stream = "".join(c for token in tokens for c in token if c.isalnum())
    matched: dict[int, list[int]] = {}
    blocks = difflib.SequenceMatcher(None, stream, "".join(sentence[i] for i in raw), autojunk=False)
    for a, b, size in blocks.get_matching_blocks():
        for k in range(size):
            matched.setdefault(owner[a + k], []).append(raw[b + k])
    offsets: list[tuple[int, int] | None] = []
    cursor = 0
    for index, token in enumerate(tokens):
        if index in matched:
            start, end = min(matched[index]), max(matched[index]) + 1
            while start > 0 and sentence[start - 1].isalnum():
                start -= 1
            while end < len(sentence) and sentence[end].isalnum():
                end += 1
            offsets.append((start, end))
            cursor = end
        elif not any(c.isalnum() for c in token) and (start := sentence.find(token, cursor)) >= 0:
            offsets.append((start, start + len(token)))
        else:
            offsets.append(None)
    return offsets


def parse_line(line: str, path: Path, number: int) -> JmasaExample:
    """One example; raises :class:`DatasetError` naming the line when it cannot be read."""
    if SEPARATOR not in line:
        raise DatasetError(DatasetErrorCode.BAD_ROW, path, number, f"no {SEPARATOR!r} between sentence and tags")
    sentence, tagged = line.split(SEPARATOR, 1)
    pairs = [item.rsplit("=", 1) for item in tagged.split()]
    if any(len(pair) != 2 for pair in pairs):
        raise DatasetError(DatasetErrorCode.BAD_ROW, path, number, "every token needs '=TAG'")
    tokens, tags = [p[0] for p in pairs], [p[1] for p in pairs]
    unknown = sorted({t for t in tags if t != OUTSIDE and t not in TAG_SENTIMENT})
    if unknown:
        raise DatasetError(DatasetErrorCode.BAD_LABEL, path, number, f"unknown tags {unknown} (O, T-POS, T-NEU, T-NEG)")
    offsets = token_offsets(sentence, tokens)
    spans: list[AspectSpan] = []
    run: list[tuple[str, tuple[int, int] | None]] = []
    sentiment = OUTSIDE
    for token, tag, where in zip(tokens + [""], tags + [OUTSIDE], offsets + [None]):
        if run and tag != sentiment:
            spans.append(_span(sentence, run, TAG_SENTIMENT[sentiment], len(spans), path, number))
            run = []
        sentiment = tag
        if tag != OUTSIDE:
            run.append((token, where))
    return JmasaExample(f"{path.parent.name}-{path.stem}-{number:05d}", sentence, tuple(spans))


def _span(sentence: str, run: list[tuple[str, tuple[int, int] | None]], sentiment: Sentiment, index: int,
          path: Path, number: int) -> AspectSpan:
    """The aspect of a run of tagged tokens; unresolved (a gold miss, no training tag) when none of
    its tokens is in the sentence (a few lines of the public files are garbled)."""
    located = [where for _, where in run if where is not None]
    if not located:
        log.warning("%s:%d: aspect %r is not in the sentence: kept as an unresolved gold span", path, number,
                    " ".join(token for token, _ in run))
        return AspectSpan(index, index, " ".join(token for token, _ in run), sentiment, resolved=False)
    start, end = located[0][0], located[-1][1]
    return AspectSpan(start, end, sentence[start:end], sentiment)


def load_unified(path: Path | str) -> list[JmasaExample]:
    """Every sentence of a unified-tag file (ids ``<folder>-<split>-<line>``)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(DatasetErrorCode.FILE_NOT_FOUND, path, 0, "no such unified-tag file")
    return [parse_line(line, path, number)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if line.strip()]
