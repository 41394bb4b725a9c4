"""The report page: a header with counts, filters, the index, the dead letters, and the ads in pages."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from schemas.base import AD_ID_PATTERN, SENTIMENTS
from schemas.events import DeadLetter
from streams.ops.render import SYMBOL
from streams.report.config import ReportConfig
from streams.report.entries import DEAD_LETTER, ReportEntry
from streams.report.figure import embedded_jpeg, figure_html, plural
from streams.report.scores import concepts_html, gate_html, overall_html, timings_html
from streams.report.spans import texts_html
from streams.report.style import OUTCOMES, STYLE

DEAD_SYMBOL = "✕"
OUTCOME_WORDS = {"positive": "positive", "neutral": "neutral", "negative": "negative", DEAD_LETTER: "dead letter"}
_ID = re.compile(AD_ID_PATTERN)


def outcome_label(entry: ReportEntry) -> str:
    """The outcome as symbol and word (never colour alone), with the overall score."""
    if entry.result is None:
        return f'<span class="outcome {DEAD_LETTER}">{DEAD_SYMBOL} dead letter</span>'
    label = entry.result.overall.label
    return (f'<span class="outcome {label}">{SYMBOL[label]} {label} '
            f"{entry.result.overall.scores.get(label, 0.0):.2f}</span>")


def anchors(entries: Sequence[ReportEntry]) -> list[str]:
    """A unique HTML id per entry: ``ad-<ad_id>`` where the id allows it, else ``entry-<n>``."""
    seen: set[str] = set()
    ids = []
    for n, entry in enumerate(entries, start=1):
        anchor = f"ad-{entry.ad_id}" if _ID.match(entry.ad_id) else f"entry-{n}"
        if anchor in seen:
            anchor = f"{anchor}--{n}"
        seen.add(anchor)
        ids.append(anchor)
    return ids


def _counts(entry: ReportEntry) -> str:
    result = entry.result
    if result is None:
        letter = entry.dead_letter
        assert letter is not None
        return f"{escape(letter.stage)} / {escape(letter.code)}"
    spans = Counter(a.sentiment for a in result.attributes)
    by_sentiment = ", ".join(f"{spans[s]} {SYMBOL[s]}" for s in SENTIMENTS if spans[s])
    parts = [plural(len(result.attributes), "span") + (f" ({by_sentiment})" if by_sentiment else "")]
    evidence = result.evidence
    if evidence is not None:
        parts.append(f"{plural(len(evidence.faces), 'face')}, {plural(len(evidence.ocr_boxes), 'text line')}")
    return " · ".join(parts)


def _image_note(entry: ReportEntry) -> str:
    return "not recorded" if entry.image is None else "could not be decoded"


def _entry_html(entry: ReportEntry, anchor: str, image_uri: str | None, expanded: bool) -> str:
    summary = (f'<summary>{outcome_label(entry)}<b class="adid">{escape(entry.ad_id)}</b>'
               f'<span class="counts">{_counts(entry)}</span></summary>')
    head = f'<details class="ad" id="{escape(anchor)}" data-outcome="{entry.outcome}"{" open" if expanded else ""}>'
    result = entry.result
    if result is None:
        figure = figure_html(entry.ad_id, image_uri, None, [], _image_note(entry), boxes_expected=False)
        return f'{head}{summary}<div class="cols">{figure}{_letter_html(entry)}</div></details>'
    figure = figure_html(entry.ad_id, image_uri, result.evidence, result.texts.ocr.split("\n"), _image_note(entry))
    return (f'{head}{summary}<div class="cols">{figure}<div>{texts_html(result, entry.ad_copy)}'
            f'<div class="row">{overall_html(result)}{timings_html(result)}</div></div></div>'
            f'<div class="row">{concepts_html(result)}{gate_html(result.evidence)}</div></details>')


def _letter_rows(letter: DeadLetter) -> str:
    fields = (("stage", letter.stage), ("code", letter.code), ("message", letter.message),
              ("exception", letter.exception_type), ("attempts", str(letter.attempts)),
              ("replays", str(letter.replays)),
              ("failed", f"{letter.failed_at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"))
    return "".join(f"<tr><th>{name}</th><td>{escape(value)}</td></tr>" for name, value in fields)


def _letter_html(entry: ReportEntry) -> str:
    assert entry.dead_letter is not None
    copy = (f'<h4>Ad copy</h4><p>{escape(entry.ad_copy)}</p>' if entry.ad_copy
            else '<p class="missing">Ad copy not recorded.</p>')
    return (f'<section class="letter"><h3>Dead letter</h3><table>{_letter_rows(entry.dead_letter)}</table>'
            f"{copy}</section>")


def _index_html(entries: Sequence[ReportEntry], ids: list[str], config: ReportConfig) -> str:
    rows = []
    for n, (entry, anchor) in enumerate(zip(entries, ids), start=1):
        if entry.result is not None:
            result = entry.result
            top = result.concepts[0].anp.replace("_", " ") if result.concepts else "—"
            detail = f"<td>{_counts(entry)}</td><td>{escape(top)}</td>"
        else:
            letter = entry.dead_letter
            assert letter is not None
            cut = len(letter.message) > config.message_chars
            message = letter.message[: config.message_chars] + ("…" if cut else "")
            detail = (f'<td>{escape(letter.stage)} / <code>{escape(letter.code)}</code></td>'
                      f"<td>{escape(message)}</td>")
        rows.append(f'<tr data-outcome="{entry.outcome}"><td>{n}</td><td><a href="#{escape(anchor)}">'
                    f"{escape(entry.ad_id)}</a></td><td>{outcome_label(entry)}</td>{detail}</tr>")
    return ('<section class="index" id="index"><h2>Index</h2><div class="index-wrap"><table>'
            "<thead><tr><th>#</th><th>ad</th><th>outcome</th><th>spans or stage / code</th>"
            "<th>top concept or message</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')


def _letters_html(entries: Sequence[ReportEntry], ids: list[str]) -> str:
    rows = "".join(
        f'<tr data-outcome="{DEAD_LETTER}"><td><a href="#{escape(anchor)}">{escape(e.ad_id)}</a></td>'
        f"<td>{escape(e.dead_letter.stage)}</td><td><code>{escape(e.dead_letter.code)}</code></td>"
        f"<td>{escape(e.dead_letter.message)}</td></tr>"
        for e, anchor in zip(entries, ids) if e.dead_letter is not None)
    if not rows:
        return '<section class="letters" id="dead-letters"><h2>Dead letters</h2><p>None.</p></section>'
    return ('<section class="letters" id="dead-letters"><h2>Dead letters</h2><table><thead><tr><th>ad</th>'
            f"<th>stage</th><th>code</th><th>message</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _filters_html(entries: Sequence[ReportEntry]) -> str:
    counts = Counter(e.outcome for e in entries)
    inputs = ['<input type="radio" name="show" id="show-all" class="filter sr" checked>']
    labels = [f'<label for="show-all">All ({len(entries)})</label>']
    for name in OUTCOMES:
        symbol = DEAD_SYMBOL if name == DEAD_LETTER else SYMBOL[name]
        inputs.append(f'<input type="radio" name="show" id="show-{name}" class="filter sr">')
        labels.append(f'<label for="show-{name}">{symbol} {OUTCOME_WORDS[name]} ({counts[name]})</label>')
    return "".join(inputs) + f'<nav class="filters" aria-label="Show only">Show: {" ".join(labels)}</nav>'


def _header_html(entries: Sequence[ReportEntry], config: ReportConfig) -> str:
    counts = Counter(e.outcome for e in entries)
    models = sorted({e.result.model_version for e in entries if e.result is not None})
    parts = [f"{counts[s]} {SYMBOL[s]} {s}" for s in SENTIMENTS] + [f"{counts[DEAD_LETTER]} {DEAD_SYMBOL} dead letters"]
    written = datetime.now(timezone.utc)
    return (f"<header><h1>{escape(config.title)}</h1><p class=\"meta\">{len(entries)} ads: {', '.join(parts)}. "
            f"Model: {escape(', '.join(models) or 'none')}. Written {written:%Y-%m-%d %H:%M} UTC.</p></header>")


def _pages_html(entries: Sequence[ReportEntry], ids: list[str], config: ReportConfig,
                on_entry: Callable[[], None] | None) -> tuple[str, str]:
    """The pager and the pages of entries (one page: no pager)."""
    expanded = len(entries) <= config.open_max
    pages, links = [], []
    for first in range(0, len(entries), config.page_size):
        number, last = first // config.page_size + 1, min(first + config.page_size, len(entries))
        cards = []
        for entry, anchor in zip(entries[first:last], ids[first:last]):
            image_uri = embedded_jpeg(entry.image, config) if entry.image else None
            cards.append(_entry_html(entry, anchor, image_uri, expanded))
            if on_entry is not None:
                on_entry()
        pages.append(f'<section class="page" id="page-{number}" aria-label="Ads {first + 1} to {last}">'
                     f"<h2>Ads {first + 1}–{last} of {len(entries)}</h2>{''.join(cards)}</section>")
        links.append(f'<a href="#page-{number}">{first + 1}–{last}</a>')
    pager = f'<nav class="pager" aria-label="Pages">Pages: {" ".join(links)}</nav>' if len(links) > 1 else ""
    return pager, f'<main class="pages">{"".join(pages)}</main>'


_FOOTER = ("<footer>Outcomes: + positive, = neutral, - negative, ✕ dead letter. Boxes: solid orange, a face; "
           "solid blue, a line of text (OCR); dashed green, a region whose crop the model encoded. A highlighted "
           "span shows its sentiment symbol, dimension and confidence (a stronger colour: more confident); hover "
           "for words. Written by <code>adsent explain</code>; self-contained, no network.</footer>")


def render_report(entries: Sequence[ReportEntry], config: ReportConfig = ReportConfig(),
                  on_entry: Callable[[], None] | None = None) -> str:
    """The whole page as one HTML string (inline CSS, images as data URIs, no script)."""
    ids = anchors(entries)
    pager, pages = _pages_html(entries, ids, config, on_entry)
    body = (_header_html(entries, config) + _filters_html(entries) + _index_html(entries, ids, config)
            + _letters_html(entries, ids) + pager + pages + _FOOTER)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(config.title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def write_report(entries: Sequence[ReportEntry], path: Path, config: ReportConfig = ReportConfig(),
                 on_entry: Callable[[], None] | None = None) -> Path:
    """Write the page to ``path`` (parents created) and return its absolute path."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(entries, config, on_entry), encoding="utf-8")
    return path
