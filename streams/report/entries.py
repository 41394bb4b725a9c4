"""What the report shows per ad: its result or dead letter, and the image and copy when known."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from schemas import AdDescribed, AdFeatures, AdSentiment, AdUploaded, DeadLetter, SchemaError, decode
from schemas.policy import DEFAULT_POLICY, ValidationPolicy

Outcome = AdSentiment | DeadLetter
DEAD_LETTER = "dead-letter"  # the outcome name of a dead letter, next to the three sentiments


class ReportInputError(ValueError):
    """A results or uploads file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class ReportEntry:
    """One ad of the report: exactly one of ``result`` and ``dead_letter``; ``image`` holds encoded bytes."""

    ad_id: str
    result: AdSentiment | None = None
    dead_letter: DeadLetter | None = None
    image: bytes | None = None
    ad_copy: str | None = None

    @property
    def outcome(self) -> str:
        """``positive``, ``neutral``, ``negative`` or ``dead-letter``."""
        return self.result.overall.label if self.result is not None else DEAD_LETTER


def entries_of(outcomes: Iterable[Outcome], uploads: Mapping[str, AdUploaded] | None = None) -> list[ReportEntry]:
    """One entry per outcome, in order, with the image and copy of its upload when ``uploads`` has it
    (a dead letter's own payload is looked at otherwise)."""
    uploads = uploads or {}
    entries = []
    for outcome in outcomes:
        ad_id = outcome.ad_id or "(unknown ad)"
        image, copy = _upload_parts(uploads[ad_id]) if ad_id in uploads else (None, None)
        if isinstance(outcome, DeadLetter):
            if ad_id not in uploads:
                image, copy = letter_parts(outcome)
            entries.append(ReportEntry(ad_id, dead_letter=outcome, image=image, ad_copy=copy))
        else:
            entries.append(ReportEntry(ad_id, result=outcome, image=image, ad_copy=copy))
    return entries


def _upload_parts(ad: AdUploaded) -> tuple[bytes | None, str]:
    """The upload's image bytes (inline, or a readable ``file:`` URI) and its copy."""
    from model.fusion.errors import ModelError
    from model.predict import image_source

    try:
        source = image_source(ad)
        return (source if isinstance(source, bytes) else source.read_bytes()), ad.text
    except (ModelError, OSError):
        return None, ad.text


def letter_parts(letter: DeadLetter) -> tuple[bytes | None, str | None]:
    """The image and copy inside a dead letter's payload (the failed stage's input), when it has them."""
    if letter.payload is None:
        return None, None
    for model in (AdUploaded, AdDescribed, AdFeatures):
        try:
            event = decode(letter.payload, model)
        except SchemaError:
            continue
        if isinstance(event, AdUploaded):
            return _upload_parts(event)
        if isinstance(event, AdDescribed):
            return event.image, event.ad.text
        return None, event.ad.text
    return None, None


def read_outcomes(path: Path, policy: ValidationPolicy = DEFAULT_POLICY) -> list[Outcome]:
    """AdSentiment and DeadLetter JSON lines (what ``adsent tail --json`` prints), in file order."""
    outcomes: list[Outcome] = []
    for number, line in _lines(path):
        try:
            kind = AdSentiment if "overall" in json.loads(line) else DeadLetter
            outcomes.append(decode(line, kind, policy))
        except (SchemaError, ValueError, TypeError) as exc:
            raise ReportInputError(f"{path}:{number}: not an AdSentiment or DeadLetter: {exc}") from exc
    return outcomes


def read_uploads(path: Path, policy: ValidationPolicy = DEFAULT_POLICY) -> dict[str, AdUploaded]:
    """AdUploaded JSON lines by ad id (a later line wins)."""
    uploads = {}
    for number, line in _lines(path):
        try:
            ad = decode(line, AdUploaded, policy)
        except SchemaError as exc:
            raise ReportInputError(f"{path}:{number}: not an AdUploaded: {exc}") from exc
        uploads[ad.ad_id] = ad
    return uploads


def _lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"cannot read {path}: {exc}") from exc
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
