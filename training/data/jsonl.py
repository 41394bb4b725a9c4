"""The project's ad format (JSON Lines of :class:`schemas.dataset.AdRecord`): load and write."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from schemas.codec import decode
from schemas.dataset import AdRecord
from schemas.errors import SchemaError
from training.data.errors import DatasetError, DatasetErrorCode
from training.data.examples import AspectSpan, JmasaExample

log = logging.getLogger(__name__)


def record_to_example(record: AdRecord, images_dir: Path | None) -> JmasaExample:
    """The in-memory example of a validated record; ``image`` resolves against ``images_dir``."""
    spans = tuple(sorted((AspectSpan(a.start, a.end, a.term, a.sentiment, a.segment, a.dimension)
                          for a in record.aspects), key=lambda span: (span.segment, span.start)))
    image_path = None
    if record.image is not None and images_dir is not None and "://" not in record.image:
        image_path = images_dir / record.image
    generated = ()
    if record.generated is not None:
        generated = tuple((name, text) for name, text in record.generated.model_dump().items() if text is not None)
    return JmasaExample(record.ad_id, record.text, spans, record.overall, image_path, record.image,
                        record.category, generated, tuple(record.template_segments), tuple(record.tones))


def read_records(path: Path | str) -> list[AdRecord]:
    """Validated records of a JSONL file; a bad line raises :class:`DatasetError` with its number."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(DatasetErrorCode.FILE_NOT_FOUND, path, 0, "no such JSONL file")
    records, seen = [], {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = decode(line, AdRecord)
            except SchemaError as exc:
                raise DatasetError(DatasetErrorCode.INVALID_RECORD, path, number, str(exc)) from exc
            if record.ad_id in seen:
                raise DatasetError(DatasetErrorCode.DUPLICATE_ID, path, number,
                                   f"ad_id {record.ad_id!r} already on line {seen[record.ad_id]}")
            seen[record.ad_id] = number
            records.append(record)
    return records


def load_jsonl(path: Path | str, images_dir: Path | str | None = None) -> list[JmasaExample]:
    """Examples of a JSONL ad file. Relative ``image`` paths resolve against ``images_dir``.

    When ``images_dir`` is None or does not exist (logged), ``image_path`` is None on every
    example; a missing image file is left to the consumer to report.
    """
    images = Path(images_dir) if images_dir is not None else None
    if images is not None and not images.is_dir():
        log.warning("images directory %s does not exist: the image inputs of %s will be empty", images, path)
        images = None
    return [record_to_example(record, images) for record in read_records(path)]


def write_jsonl(records: Iterable[AdRecord], path: Path | str) -> int:
    """Write records one per line (stable key order, UTF-8, no null fields); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n")
            count += 1
    return count
