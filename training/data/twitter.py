"""Twitter-2015/2017 loaders (the IJCAI-2019 target-oriented formats), merged into JMASA sequences.

Both published formats hold one (sentence, target) row per target, with ``$T$`` where the target
stands. Rows of the same tweet (same image and same full sentence) merge into one
:class:`JmasaExample` carrying every aspect span, with character offsets into the sentence.

- ``.txt``: four lines per row: sentence with ``$T$``, target, polarity (-1, 0, 1), image file.
- ``.tsv``: a header, then ``index, label (0 neg, 1 neu, 2 pos), image id, sentence, target``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from schemas.base import Sentiment
from training.data.errors import DatasetError, DatasetErrorCode
from training.data.examples import AspectSpan, JmasaExample

log = logging.getLogger(__name__)

TwitterFormat = Literal["txt", "tsv"]
PLACEHOLDER = "$T$"
TXT_LABELS: dict[str, Sentiment] = {"-1": "negative", "0": "neutral", "1": "positive"}
TSV_LABELS: dict[str, Sentiment] = {"0": "negative", "1": "neutral", "2": "positive"}
TXT_LINES_PER_ROW = 4
TSV_COLUMNS = 5
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class TargetRow:
    """One published row: a sentence with ``$T$``, its target and polarity, the image file name."""

    template: str
    target: str
    sentiment: Sentiment
    image: str
    line: int


def read_txt(path: Path) -> Iterator[TargetRow]:
    """Rows of the four-line ``.txt`` format."""
    lines = path.read_text(encoding="utf-8").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) % TXT_LINES_PER_ROW:
        raise DatasetError(DatasetErrorCode.BAD_ROW, path, len(lines),
                           f"{len(lines)} lines is not a multiple of {TXT_LINES_PER_ROW}")
    for first in range(0, len(lines), TXT_LINES_PER_ROW):
        template, target, label, image = lines[first:first + TXT_LINES_PER_ROW]
        line = first + 1
        if label.strip() not in TXT_LABELS:
            raise DatasetError(DatasetErrorCode.BAD_LABEL, path, line + 2, f"polarity {label!r} is not -1, 0 or 1")
        yield TargetRow(template, target.strip(), TXT_LABELS[label.strip()], image.strip(), line)


def read_tsv(path: Path) -> Iterator[TargetRow]:
    """Rows of the ``.tsv`` format (header skipped)."""
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            row = raw.rstrip("\n").split("\t")
            if number == 1 or not raw.strip():
                continue
            if len(row) != TSV_COLUMNS:
                raise DatasetError(DatasetErrorCode.BAD_ROW, path, number,
                                   f"expected {TSV_COLUMNS} tab-separated columns, got {len(row)}")
            _, label, image, template, target = row
            if label.strip() not in TSV_LABELS:
                raise DatasetError(DatasetErrorCode.BAD_LABEL, path, number, f"label {label!r} is not 0, 1 or 2")
            yield TargetRow(template, target.strip(), TSV_LABELS[label.strip()], image.strip(), number)


def locate(row: TargetRow, path: Path) -> tuple[str, AspectSpan]:
    """The full sentence (whitespace-trimmed) and the target's span in it."""
    if row.template.count(PLACEHOLDER) != 1:
        raise DatasetError(DatasetErrorCode.TARGET_NOT_FOUND, path, row.line,
                           f"sentence must hold {PLACEHOLDER} exactly once: {row.template!r}")
    if not row.target:
        raise DatasetError(DatasetErrorCode.BAD_ROW, path, row.line, "empty target")
    left, right = row.template.split(PLACEHOLDER)
    text = (left + row.target + right).strip()
    start = len(left.lstrip())
    return text, AspectSpan(start, start + len(row.target), row.target, row.sentiment)


def merge_rows(rows: Iterator[TargetRow], path: Path, prefix: str) -> list[tuple[str, str, list[AspectSpan]]]:
    """Group rows by (image, sentence) in first-seen order: ``(example_id, image, text, spans)``."""
    groups: dict[tuple[str, str], list[AspectSpan]] = {}
    for row in rows:
        text, span = locate(row, path)
        spans = groups.setdefault((row.image, text), [])
        same_place = [kept for kept in spans if (kept.start, kept.end) == (span.start, span.end)]
        if same_place:
            if same_place[0].sentiment != span.sentiment:
                raise DatasetError(DatasetErrorCode.CONFLICTING_SPANS, path, row.line,
                                   f"target {span.term!r} at {span.start} labelled {same_place[0].sentiment} "
                                   f"and {span.sentiment}")
            continue
        overlapping = [kept for kept in spans if span.start < kept.end and kept.start < span.end]
        if overlapping:
            raise DatasetError(DatasetErrorCode.CONFLICTING_SPANS, path, row.line,
                               f"target {span.term!r} overlaps {overlapping[0].term!r}")
        spans.append(span)
    merged = []
    per_image: dict[str, int] = {}
    for (image, text), spans in groups.items():
        stem = Path(image).stem
        seen = per_image.get(stem, 0)
        per_image[stem] = seen + 1
        example_id = f"{prefix}-{stem}" if not seen else f"{prefix}-{stem}-{seen}"
        merged.append((example_id, image, text, sorted(spans, key=lambda s: s.start)))
    return merged


def load_twitter(root: Path | str, split: str, fmt: TwitterFormat = "txt",
                 images_dir: Path | str | None = None) -> list[JmasaExample]:
    """Load ``root/{split}.{fmt}`` as merged JMASA examples.

    ``images_dir`` holds the tweets' images (``<image id>.jpg``); when it is None or missing,
    ``image_path`` is None on every example and the loader logs that once.
    """
    root = Path(root)
    path = root / f"{split}.{fmt}"
    if not path.is_file():
        raise DatasetError(DatasetErrorCode.FILE_NOT_FOUND, path, 0, f"no {fmt} file for split '{split}'")
    reader = read_txt if fmt == "txt" else read_tsv
    merged = merge_rows(reader(path), path, f"{root.name}-{split}")
    images = Path(images_dir) if images_dir is not None else None
    if images is None or not images.is_dir():
        log.info("no images directory for %s (%s): image inputs will be empty", path,
                 "not given" if images is None else f"{images} does not exist")
        images = None
    examples, missing = [], 0
    for example_id, image, text, spans in merged:
        image_path = images / image if images is not None else None
        if image_path is not None and not image_path.is_file():
            missing += 1
            image_path = None
        examples.append(JmasaExample(example_id, text, tuple(spans), None, image_path, image))
    if missing:
        log.warning("%d of %d images of %s are missing under %s: their image inputs will be empty",
                    missing, len(examples), path, images)
    return examples


def load_twitter_splits(root: Path | str, fmt: TwitterFormat = "txt",
                        images_dir: Path | str | None = None) -> dict[str, list[JmasaExample]]:
    """Every split of the data set under ``root``."""
    return {split: load_twitter(root, split, fmt, images_dir) for split in SPLITS}
