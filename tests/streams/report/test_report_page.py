"""The explain report's HTML, without a browser: spans, boxes, index, dead letters, 500 ads."""

from __future__ import annotations

import io
import re
import time

from tests.streams.report.dom import parse
from tests.streams.report.factories import dead_letter, full_result, photo, result, upload

from schemas import AdSentiment, decode, encode
from streams.report import ReportConfig, entries_of, render_report
from streams.report.entries import read_outcomes, read_uploads
from streams.report.spans import highlighted


def page(*outcomes, uploads=None, config: ReportConfig = ReportConfig()):  # noqa: ANN001, ANN002, ANN201
    return parse(render_report(entries_of(outcomes, uploads or {}), config))


def test_spans_are_marked_in_their_own_texts_with_sentiment_dimension_and_confidence() -> None:
    dom = page(result())
    marks = {m.attrs["data-term"]: m for m in dom.find_all("mark")}
    assert set(marks) == {"flight jacket", "price", "white", "woman", "SALE"}
    segments = {s.attrs["data-segment"]: s for s in dom.find_all("div", class_="segment")}
    assert "not recorded" in segments["ad_copy"].text()  # no upload: the copy is unknown, its spans still listed
    assert marks["SALE"] in segments["ocr"].iter() and "NASA / SPACE SALE" in segments["ocr"].text()
    price = marks["price"]
    assert price.attrs["data-sentiment"] == "negative" and price.attrs["data-dimension"] == "object"
    assert "negative object, confidence 0.64" in price.attrs["title"]
    labels = [w.text() for w in dom.find_all("span", class_="why")]
    assert "- object 0.64" in [label.replace("\u2009", " ") for label in labels]  # symbol and dimension in text


def test_the_ad_copy_of_the_upload_is_highlighted_in_place() -> None:
    dom = page(result(), uploads={"astro-1": upload("astro-1", photo("coffee"))})
    copy = dom.find_all("div", class_="segment", data_segment="ad_copy")[0]
    assert copy.find_all("p")[0].text().startswith("Reach for the stars: our new flight jacket")
    assert [m.attrs["data-term"] for m in copy.find_all("mark")] == ["flight jacket", "price"]
    assert not copy.find_all("p", class_="unplaced")


def test_spans_whose_offsets_do_not_fit_are_listed_not_lost() -> None:
    attributes = result().attributes
    html, unplaced = highlighted("a different text", list(attributes[:2]))
    assert "mark" not in html and len(unplaced) == 2


def test_boxes_are_drawn_in_percent_and_listed() -> None:
    dom = page(result(), uploads={"astro-1": upload("astro-1", photo())})
    boxes = dom.find_all("div", class_="box")
    assert [b.attrs["data-kind"] for b in boxes] == ["face", "ocr", "ocr", "region", "region"]
    face = boxes[0]
    assert "left:35.2%;top:11.7%" in face.attrs["style"]
    assert face.text() == "Face 1: happy, about 34 years, female"
    assert "SPACE SALE" in boxes[2].text()
    legend = dom.find_all("ol", class_="legend")[0]
    assert "head yaw 2°, pitch -25°, roll 2°" in legend.text()
    image = dom.find_all("img")[0]
    assert image.attrs["src"].startswith("data:image/jpeg;base64,")
    assert "1 face, 2 text lines and 2 regions outlined" in image.attrs["alt"]


def test_results_without_evidence_still_render_with_the_parts_not_recorded() -> None:
    old = decode(encode(result(with_evidence=False)), AdSentiment)
    assert b'"evidence"' not in encode(old)
    dom = page(old, uploads={"astro-1": upload("astro-1", photo())})
    assert not dom.find_all("div", class_="box")
    assert "Boxes: not recorded" in dom.find_all("figure")[0].text()
    assert "not recorded (no evidence block)" in dom.find_all("section", class_="gate")[0].text()
    assert dom.find_all("mark")  # spans still shown


def test_the_gate_heat_map_names_every_vector() -> None:
    gate = page(result()).find_all("section", class_="gate")[0]
    headers = [th.text() for th in gate.find_all("th", scope="colgroup")]
    assert headers == ["Whole image", "Region 1: face", "Region 2: text"]
    rows = gate.find_all("tbody")[0].find_all("tr")
    assert len(rows) == 2 and [td.text() for td in rows[0].find_all("td")][:5] == ["40", "15", "15", "15", "15"]
    assert [th.attrs.get("title") for th in gate.find_all("th", scope="col")][1:6] == [
        "all", "top left", "top right", "bottom left", "bottom right"]


def test_index_filters_and_dead_letters() -> None:
    dom = page(result("ad-a", "positive"), result("ad-b", "negative"), dead_letter("ad-c"))
    rows = dom.find_all("section", id="index")[0].find_all("tbody")[0].find_all("tr")
    assert [r.attrs["data-outcome"] for r in rows] == ["positive", "negative", "dead-letter"]
    assert [r.find_all("a")[0].attrs["href"] for r in rows] == ["#ad-ad-a", "#ad-ad-b", "#ad-ad-c"]
    assert "+ positive 0.70" in rows[0].text() and "✕ dead letter" in rows[2].text()
    assert "describe / image_corrupt" in rows[2].text() and "cannot identify the image" in rows[2].text()
    letters = dom.find_all("section", id="dead-letters")[0]
    assert "image_corrupt" in letters.text() and "describe" in letters.text()
    filters = [i.attrs["id"] for i in dom.find_all("input", type="radio")]
    assert filters == ["show-all", "show-positive", "show-neutral", "show-negative", "show-dead-letter"]
    assert "Half price on everything" in dom.find_all("details", id="ad-ad-c")[0].text()  # copy from the payload


def test_every_image_has_alt_text_and_every_outcome_a_word() -> None:
    dom = page(result("ad-a"), dead_letter("ad-c"), uploads={"ad-a": upload("ad-a", photo())})
    assert all(img.attrs.get("alt") for img in dom.find_all("img"))
    for details in dom.find_all("details"):
        assert re.search(r"(positive|neutral|negative|dead letter)", details.find_all("summary")[0].text())


def test_ids_stay_unique_and_odd_ad_ids_get_a_plain_anchor() -> None:
    dom = page(result("same"), result("same"), dead_letter("has space", with_payload=False))
    ids = [d.attrs["id"] for d in dom.find_all("details")]
    assert ids == ["ad-same", "ad-same--2", "entry-3"]


def test_results_and_uploads_files_are_read(tmp_path) -> None:  # noqa: ANN001
    results = tmp_path / "results.jsonl"
    results.write_bytes(encode(result("ad-a")) + b"\n\n" + encode(dead_letter("ad-b")) + b"\n")
    uploads = tmp_path / "uploads.jsonl"
    uploads.write_bytes(encode(upload("ad-a", photo())) + b"\n")
    outcomes = read_outcomes(results)
    assert [type(o).__name__ for o in outcomes] == ["AdSentiment", "DeadLetter"]
    assert set(read_uploads(uploads)) == {"ad-a"}
    results.write_text('{"overall": 1}\n')
    try:
        read_outcomes(results)
    except ValueError as exc:
        assert f"{results}:1" in str(exc)
    else:
        raise AssertionError("a broken line must be refused")


def test_a_report_of_500_ads_is_paged_collapsed_and_small() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(buffer, format="PNG")
    small = buffer.getvalue()
    outcomes = [dead_letter(f"ad-{n:03d}") if n % 50 == 7 else
                full_result(f"ad-{n:03d}", ("positive", "neutral", "negative")[n % 3]) for n in range(500)]
    uploads = {f"ad-{n:03d}": upload(f"ad-{n:03d}", small) for n in range(500)}
    started = time.perf_counter()
    html = render_report(entries_of(outcomes, uploads))
    seconds = time.perf_counter() - started
    dom = parse(html)
    config = ReportConfig()
    pages = dom.find_all("section", class_="page")
    assert len(pages) == 500 // config.page_size and all(len(p.find_all("details")) == config.page_size for p in pages)
    assert len(dom.find_all("nav", class_="pager")[0].find_all("a")) == len(pages)
    details = dom.find_all("details")
    assert len(details) == 500 and not any("open" in d.attrs for d in details)
    index_rows = dom.find_all("section", id="index")[0].find_all("tbody")[0].find_all("tr")
    assert len(index_rows) == 500
    assert {r.find_all("a")[0].attrs["href"][1:] for r in index_rows} == {d.attrs["id"] for d in details}
    assert len(dom.find_all("section", id="dead-letters")[0].find_all("tr")) == 1 + 10
    assert len(dom.find_all("img")) == 500  # the dead letters' uploads have images too
    per_ad = len(html.encode()) / 500
    print(f"500 ads: {len(html.encode()) / 1e6:.1f} MB, {per_ad:.0f} bytes per ad, {seconds:.1f} s")
    assert per_ad < 16_000, f"{per_ad:.0f} bytes per ad"  # markup about 12 KB, the 320x240 image about 3 KB
    assert seconds < 60
