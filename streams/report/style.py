"""The report's inline style sheet. Filters and pages work with CSS alone (no script).

Filtering: radio inputs before the index and the pages hide entries of other outcomes
(``data-outcome``). Pages: only the page in the URL fragment (or holding the ad in it) shows,
the first page when there is none.
"""

from __future__ import annotations

OUTCOMES = ("positive", "neutral", "negative", "dead-letter")

_BASE = """
:root{--pos:43 138 62;--neu:108 117 125;--neg:201 42 42;--dead:134 46 156;--face:232 89 12;--ocr:25 113 194;
--region:47 158 68;--concept:73 80 87;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529}
body{margin:0 auto;max-width:1240px;padding:12px 20px;line-height:1.4;background:#fff}
h1{font-size:1.45rem;margin:4px 0}h2{font-size:1.15rem;margin:14px 0 6px}h3{font-size:.95rem;margin:10px 0 4px}
h4{font-size:.8rem;margin:6px 0 0;color:#495057;text-transform:uppercase;letter-spacing:.03em}
table{border-collapse:collapse}th{text-align:left;font-weight:600}td,th{padding:2px 6px;vertical-align:top}
.meta{color:#495057;margin:0 0 8px}.missing{color:#6c757d;font-style:italic}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.filters label{display:inline-block;padding:2px 10px;margin:2px 2px 2px 0;border:1px solid #adb5bd;border-radius:14px;
cursor:pointer;font-size:.9rem}
.filters label:hover{background:#f1f3f5}
.filter:focus-visible+*{outline:2px solid #1971c2}
.index table,.letters table{width:100%;font-size:.85rem}.index tr,.letters tr{border-bottom:1px solid #e9ecef}
.index-wrap{max-height:420px;overflow:auto;border:1px solid #dee2e6;border-radius:6px}
.index thead th,.letters thead th{position:sticky;top:0;background:#f8f9fa}
.outcome{font-weight:700;white-space:nowrap}.outcome.positive,.why.positive,.overall .positive th{color:rgb(var(--pos))}
.outcome.neutral,.why.neutral{color:rgb(var(--neu))}.outcome.negative,.why.negative{color:rgb(var(--neg))}
.outcome.dead-letter{color:rgb(var(--dead))}
.pager a{display:inline-block;padding:1px 8px;margin:2px;border:1px solid #adb5bd;border-radius:4px;text-decoration:none}
.pages>.page{display:none}
.pages>.page:target,.pages>.page:has(:target),.pages:not(:has(:target))>.page:first-child{display:block}
details.ad{border:1px solid #ced4da;border-radius:8px;margin:10px 0;padding:0 14px 10px;border-left-width:6px}
details.ad[data-outcome=positive]{border-left-color:rgb(var(--pos))}details.ad[data-outcome=neutral]{border-left-color:rgb(var(--neu))}
details.ad[data-outcome=negative]{border-left-color:rgb(var(--neg))}details.ad[data-outcome=dead-letter]{border-left-color:rgb(var(--dead))}
details.ad:not([open]){padding-bottom:0}details.ad>summary{padding:8px 0;cursor:pointer}details.ad>summary .adid{font-family:ui-monospace,monospace;margin:0 6px}
.counts{color:#495057;font-size:.85rem}
.cols{display:grid;grid-template-columns:minmax(0,420px) minmax(0,1fr);gap:14px 22px;margin-top:18px}
@media (max-width:820px){.cols{grid-template-columns:1fr}}
.row{display:flex;flex-wrap:wrap;gap:2px 36px;align-items:flex-start;max-width:100%}.row>*{max-width:100%}
figure.shot{margin:0}.stage{position:relative;width:100%}.stage img{display:block;width:100%;height:auto}
.canvas{width:100%;height:100%;min-height:100px;display:flex;align-items:center;justify-content:center;color:#495057;
background:repeating-linear-gradient(45deg,#f1f3f5 0 10px,#e9ecef 10px 20px)}
.box{position:absolute;box-sizing:border-box;border:2px solid}
.box .tag{position:absolute;left:-2px;bottom:100%;font:600 10px/1.25 system-ui,sans-serif;color:#fff;padding:0 3px;
white-space:nowrap;border-radius:2px 2px 0 0}
.box.face{border-color:rgb(var(--face))}.box.face .tag{background:rgb(var(--face))}
.box.ocr{border-color:rgb(var(--ocr))}.box.ocr .tag{background:rgb(var(--ocr))}
.box.region{border:2px dashed rgb(var(--region))}
.box.region .tag{background:rgb(var(--region));bottom:auto;top:100%;border-radius:0 0 2px 2px}
.legend{font-size:.8rem;padding-left:1.4em;margin:6px 0}.legend .px{color:#868e96}
.legend li.face::marker{color:rgb(var(--face))}.legend li.ocr::marker{color:rgb(var(--ocr))}
.legend li.region::marker{color:rgb(var(--region))}
.segment p{margin:2px 0 6px}
mark.span{color:inherit;padding:0 2px;border-radius:3px;border-bottom:3px solid}
mark.span.positive{background:rgb(var(--pos)/calc(.12 + .5*var(--c)));border-color:rgb(var(--pos))}
mark.span.neutral{background:rgb(var(--neu)/calc(.12 + .5*var(--c)));border-color:rgb(var(--neu))}
mark.span.negative{background:rgb(var(--neg)/calc(.12 + .5*var(--c)));border-color:rgb(var(--neg))}
.why{font-size:.72em;font-weight:700;margin:0 3px 0 1px;vertical-align:.15em;white-space:nowrap}
.meter{width:120px;min-width:60px}.overall th,.timings th{white-space:nowrap}.bar{display:block;height:10px;margin-top:4px;border-radius:2px;min-width:1px}
.bar.positive{background:rgb(var(--pos))}.bar.neutral{background:rgb(var(--neu))}.bar.negative{background:rgb(var(--neg))}
.bar.concept{background:rgb(var(--concept))}
.overall tr.chosen th,.overall tr.chosen td{font-weight:700}
.concepts table,.timings table{font-size:.85rem}.concepts td{white-space:nowrap}.concepts .meter{width:80px}
.gate .scroll{overflow-x:auto}.gate table{font-size:10px;font-variant-numeric:tabular-nums}
.gate caption{caption-side:bottom;text-align:left;color:#495057;font-size:.75rem;padding-top:3px}
.gate td{min-width:20px;text-align:center;padding:2px 1px;border:1px solid #fff}
.gate thead th{text-align:center;font-weight:600;border-left:1px solid #dee2e6}
.letter table{font-size:.85rem}.letter td{max-width:640px;overflow-wrap:anywhere}
footer{margin-top:18px;color:#495057;font-size:.8rem;border-top:1px solid #dee2e6;padding-top:6px}
"""


def _heat() -> str:
    """Ten shades of the gate heat map, white text on the darker ones."""
    return "".join(f".gate td.h{n}{{background:rgb(25 113 194/{n / 10:.1f}){';color:#fff' if n >= 6 else ''}}}"
                   for n in range(10))


def _filters() -> str:
    """Checked filter: its label is dark and entries and index rows of other outcomes are hidden."""
    rules = ["#show-all:checked~.filters [for=show-all]{background:#343a40;color:#fff}"]
    for name in OUTCOMES:
        rules.append(f"#show-{name}:checked~.filters [for=show-{name}]{{background:#343a40;color:#fff}}")
        rules.append(f"#show-{name}:checked~* [data-outcome]:not([data-outcome={name}]){{display:none}}")
    return "\n".join(rules)


STYLE = _BASE + _heat() + "\n" + _filters() + "\n"
