"""The explain report rendered by a real browser (Debian's headless Chromium): DOM and pixels."""

from __future__ import annotations

import pytest
from tests.streams.report.dom import parse
from tests.streams.report.factories import dead_letter, photo, result, upload

from streams.report import entries_of, write_report
from streams.report.browser import find_browser, rendered_dom, screenshot

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(find_browser() is None, reason="chromium missing: install Debian's chromium "
                                                                  "(make system-deps)")]

FACE_RGB = (232, 89, 12)  # --face in streams/report/style.py
OCR_RGB = (25, 113, 194)  # --ocr


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Two known ads (one without evidence, as older results are) and a dead letter."""
    outcomes = [result("astro-1", "positive"), result("coffee-2", "negative", with_evidence=False),
                dead_letter("broken-3")]
    uploads = {"astro-1": upload("astro-1", photo("astronaut")), "coffee-2": upload("coffee-2", photo("coffee"))}
    return write_report(entries_of(outcomes, uploads), tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def dom(report):  # noqa: ANN001, ANN201
    return parse(rendered_dom(report))


def test_the_browser_renders_the_index_of_known_ads(dom) -> None:  # noqa: ANN001
    rows = dom.find_all("section", id="index")[0].find_all("tbody")[0].find_all("tr")
    assert [(r.find_all("a")[0].text(), r.attrs["data-outcome"]) for r in rows] == [
        ("astro-1", "positive"), ("coffee-2", "negative"), ("broken-3", "dead-letter")]
    assert "describe / image_corrupt" in rows[2].text()
    assert [d.attrs["id"] for d in dom.find_all("details", class_="ad")] == ["ad-astro-1", "ad-coffee-2", "ad-broken-3"]


def test_the_browser_shows_the_spans_of_every_text(dom) -> None:  # noqa: ANN001
    astro = dom.find_all("details", id="ad-astro-1")[0]
    where = {m.attrs["data-term"]: (seg.attrs["data-segment"], m.attrs["data-sentiment"], m.attrs["data-dimension"])
             for seg in astro.find_all("div", class_="segment") for m in seg.find_all("mark")}
    assert where == {"flight jacket": ("ad_copy", "positive", "object"), "price": ("ad_copy", "negative", "object"),
                     "white": ("caption", "neutral", "color"), "woman": ("face", "positive", "face"),
                     "SALE": ("ocr", "positive", "text")}
    assert all(m.attrs["title"] for m in astro.find_all("mark"))  # dimension and confidence on hover too


def test_the_browser_draws_the_boxes_of_faces_text_and_regions(dom) -> None:  # noqa: ANN001
    astro = dom.find_all("details", id="ad-astro-1")[0]
    kinds = [b.attrs["data-kind"] for b in astro.find_all("div", class_="box")]
    assert kinds == ["face", "ocr", "ocr", "region", "region"]
    assert astro.find_all("div", class_="box")[0].text() == "Face 1: happy, about 34 years, female"
    coffee = dom.find_all("details", id="ad-coffee-2")[0]
    assert not coffee.find_all("div", class_="box") and "Boxes: not recorded" in coffee.text()


def test_the_rendered_page_is_accessible(dom) -> None:  # noqa: ANN001
    images = dom.find_all("img")
    assert len(images) == 2 and all(len(img.attrs.get("alt", "")) > 20 for img in images)
    assert dom.find_all("html")[0].attrs["lang"] == "en"
    outcomes = [o.text() for o in dom.find_all("span", class_="outcome")]
    assert any(o.startswith("+ positive") for o in outcomes) and any(o.startswith("- negative") for o in outcomes)
    assert any("dead letter" in o for o in outcomes)
    labels = {label.attrs["for"]: label.text() for label in dom.find_all("label")}
    assert labels["show-negative"] == "- negative (1)" and labels["show-dead-letter"] == "✕ dead letter (1)"


def test_the_screenshot_shows_the_boxes_in_their_colours(report, tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    png = screenshot(report, tmp_path / "shot.png", 1280, 1200, colors=None)
    pixels = {color for _, color in Image.open(png).convert("RGB").getcolors(maxcolors=1 << 24)}
    assert FACE_RGB in pixels and OCR_RGB in pixels


# Test-only: a script appended to a copy of the page records what the browser displays (the report has none).
SHOWN = ("<script>addEventListener('load', () => {for (const e of document.querySelectorAll("
         "'[data-outcome], section.page')) e.dataset.shown = getComputedStyle(e).display !== 'none' &&"
         " getComputedStyle(e.closest('section.page') || e).display !== 'none';});</script></body>")


def shown(tmp_path, html: str, fragment: str = "") -> dict[str, bool]:  # noqa: ANN001
    """Which ads and pages the browser displays: {details id or page id: shown}."""
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", SHOWN))
    dom = parse(rendered_dom(page, fragment))
    return {e.attrs["id"]: e.attrs["data-shown"] == "true" for e in dom.iter()
            if "data-shown" in e.attrs and "id" in e.attrs}


def test_filters_and_pages_work_without_script_in_the_browser(tmp_path) -> None:  # noqa: ANN001
    from streams.report import ReportConfig, render_report

    outcomes = [result("ad-1", "positive"), result("ad-2", "negative"), dead_letter("ad-3")]
    html = render_report(entries_of(outcomes), ReportConfig(page_size=2))
    assert shown(tmp_path, html) == {"page-1": True, "page-2": False, "ad-ad-1": True, "ad-ad-2": True,
                                     "ad-ad-3": False}
    assert shown(tmp_path, html, "ad-ad-3")["ad-ad-3"]  # a link to an ad opens its page
    negative = html.replace('id="show-all" class="filter sr" checked', 'id="show-all" class="filter sr"').replace(
        'id="show-negative" class="filter sr"', 'id="show-negative" class="filter sr" checked')
    assert shown(tmp_path, negative) == {"page-1": True, "page-2": False, "ad-ad-1": False, "ad-ad-2": True,
                                         "ad-ad-3": False}
