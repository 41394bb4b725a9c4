"""``adsent explain``: one self-contained HTML page that shows why each ad was tagged.

``entries`` gathers what a page shows per ad (result or dead letter, image, ad copy), ``page``
writes the HTML from its parts (``figure``: the image with its boxes, ``spans``: the texts with
tagged spans, ``scores``: scores, concepts, the gate heat map and timings), ``browser`` renders it
in headless Chromium (tests, screenshots).
"""

from streams.report.config import ReportConfig
from streams.report.entries import ReportEntry, entries_of
from streams.report.page import render_report, write_report

__all__ = ["ReportConfig", "ReportEntry", "entries_of", "render_report", "write_report"]
