"""Overall scores, the top-V visual concepts, the per-layer visual gate as a heat map, and timings."""

from __future__ import annotations

from datetime import timezone
from html import escape

from schemas.base import SENTIMENTS
from schemas.events import AdSentiment
from schemas.evidence import Evidence, GateSummary
from streams.ops.render import SYMBOL

_QUADRANTS = {2: ("TL", "TR", "BL", "BR")}
_QUADRANT_WORDS = {"TL": "top left", "TR": "top right", "BL": "bottom left", "BR": "bottom right"}


def _bar(share: float, sentiment: str) -> str:
    return f'<span class="bar {sentiment}" style="width:{max(0.0, min(share, 1.0)) * 100:.0f}%"></span>'


def overall_html(result: AdSentiment) -> str:
    rows = "".join(
        f'<tr data-sentiment="{s}"{" class=chosen" if s == result.overall.label else ""}>'
        f"<th>{SYMBOL[s]} {s}</th><td class=\"meter\">{_bar(result.overall.scores.get(s, 0.0), s)}</td>"
        f"<td>{result.overall.scores.get(s, 0.0):.2f}</td></tr>" for s in SENTIMENTS)
    return (f'<section class="overall"><h3>Overall: {SYMBOL[result.overall.label]} {result.overall.label}</h3>'
            f"<table>{rows}</table></section>")


def concepts_html(result: AdSentiment) -> str:
    if not result.concepts:
        return '<section class="concepts"><h3>Visual concepts</h3><p class="missing">none (no ANP head)</p></section>'
    top = max(c.score for c in result.concepts) or 1.0
    rows = "".join(
        f'<tr data-sentiment="{c.sentiment}"><td>{escape(c.anp.replace("_", " "))}</td>'
        f'<td class="meter">{_bar(c.score / top, "concept")}</td><td>{c.score:.3f}</td>'
        f"<td>{SYMBOL[c.sentiment]} {c.sentiment} {c.sentiment_score:+.2f}</td></tr>" for c in result.concepts)
    return (f'<section class="concepts"><h3>Top {len(result.concepts)} visual concepts (ANPs)</h3><table>'
            "<thead><tr><th>concept</th><th colspan=2>score</th><th>VSO sentiment</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def vector_names(gate: GateSummary) -> list[str]:
    """Short column names of one crop's vectors: 'all' for 1x1, TL/TR/BL/BR for 2x2, rRcC beyond."""
    names = []
    for g in gate.grids:
        if g == 1:
            names.append("all")
        else:
            names.extend(_QUADRANTS.get(g) or [f"r{r + 1}c{c + 1}" for r in range(g) for c in range(g)])
    return names


def crop_names(evidence: Evidence) -> list[str]:
    return ["Whole image"] + [f"Region {n}: {r.label}" for n, r in enumerate(evidence.regions, start=1)]


def gate_html(evidence: Evidence | None) -> str:
    """The ``(layers, vectors)`` gate as a table: one row per layer, columns grouped by crop."""
    title = "<h3>Visual gate per layer (Eq. 9-10)</h3>"
    if evidence is None or evidence.gate is None:
        why = "no evidence block" if evidence is None else "the model has no visual prefixes"
        return f'<section class="gate">{title}<p class="missing">not recorded ({why})</p></section>'
    gate, crops, names = evidence.gate, crop_names(evidence), vector_names(evidence.gate)
    per_crop = gate.vectors_per_crop
    head = "".join(f'<th colspan="{per_crop}" scope="colgroup">{escape(c)}</th>' for c in crops)
    sub = "".join(f'<th scope="col" title="{_QUADRANT_WORDS.get(n, n)}">{n}</th>' for _ in crops for n in names)
    top = max(max(row) for row in gate.weights) or 1
    rows = "".join(
        f'<tr><th scope="row">{m}</th>'
        + "".join(f'<td class="h{round(9 * v / top)}">{v}</td>' for v in row) + "</tr>"
        for m, row in enumerate(gate.weights, start=1))
    return (f'<section class="gate">{title}<div class="scroll"><table>'
            "<caption>Share of each layer's visual prefix taken from each image vector, in percent (darker: "
            "more, relative to this ad's largest share). Per layer, the whole-image vectors sum to 100, and so do "
            "the region vectors. TL, TR, BL, BR: the crop's quarters.</caption>"
            f'<thead><tr><th rowspan="2" scope="col">layer</th>{head}</tr><tr>{sub}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div></section>")


def timings_html(result: AdSentiment) -> str:
    stages = "".join(f"<tr><th>{escape(stage)}</th><td>{seconds:.2f} s</td></tr>"
                     for stage, seconds in result.stage_seconds.items())
    return (f'<section class="timings"><h3>Timings and model</h3><table>{stages}'
            f"<tr><th>end to end</th><td>{result.end_to_end_seconds:.2f} s</td></tr>"
            f"<tr><th>model</th><td>{escape(result.model_version)}</td></tr>"
            f"<tr><th>emitted</th><td>{result.emitted_at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC</td></tr>"
            "</table></section>")
