"""The committed adcorpus: size, variety, splits that measure generalisation, reproducible build."""

from __future__ import annotations

import json
import logging
from collections import Counter

from training.data.adcorpus import SOURCE_DIR
from training.data.adcorpus.build import build, face_labels
from training.data.adcorpus.check import check_ad, resolve_spans
from training.data.adcorpus.stats import load_records, near_duplicates, sentences, shared_sentences
from training.data.bundled import BUNDLED

log = logging.getLogger(__name__)
MIN_ADS = 2000
MIN_CATEGORIES = 30
MIN_HELD_OUT_CATEGORIES = 5
REQUIRED_TONES = {"promotional", "informational", "notice", "fear", "sadness", "humour", "comparison", "negation",
                  "question", "price", "emoji", "hashtag", "mixed"}


def test_committed_splits_equal_a_fresh_build():
    fresh = build()
    for split, records in load_records().items():
        assert [r.model_dump() for r in records] == [r.model_dump() for r in fresh[split]], split


def test_size_categories_and_tones():
    splits = load_records()
    records = [r for rs in splits.values() for r in rs]
    assert len(records) >= MIN_ADS
    assert len({r.ad_id for r in records}) == len(records)
    assert len({r.category for r in records}) >= MIN_CATEGORIES
    tones = Counter(t for r in records for t in r.tones)
    assert REQUIRED_TONES <= set(tones), REQUIRED_TONES - set(tones)
    assert Counter(r.overall for r in records).keys() == {"positive", "neutral", "negative"}
    assert any(" " in a.term for r in records for a in r.aspects if a.segment == "ad_copy")


def test_held_out_categories_are_absent_from_train_and_dev():
    splits = load_records()
    seen = {r.category for split in ("train", "dev") for r in splits[split]}
    held_out = {r.category for r in splits["test_category"]}
    assert len(held_out) >= MIN_HELD_OUT_CATEGORIES
    assert not held_out & seen
    assert {r.category for r in splits["test"]} <= seen  # unseen wording, seen categories


def test_no_sentence_in_two_splits_and_near_duplicates_reported():
    splits = load_records()
    shared = shared_sentences(splits)
    assert not shared, f"{len(shared)} sentences appear in two splits, e.g. {list(shared.items())[:3]}"
    report = near_duplicates(splits)
    for split, figures in report.items():  # a report, not a gate: stock phrases ("free delivery on") recur
        log.info("%s: %d of %d ads share a word 5-gram with train, e.g. %s", split,
                 figures["ads_sharing_a_5gram"], figures["ads"], figures["examples"][:3])
    assert set(report) == {"dev", "test", "test_category"}


def test_every_ad_has_image_side_labels():
    records = [r for rs in load_records().values() for r in rs]
    assert all(r.generated and r.generated.ocr for r in records)
    assert all(any(a.segment == "caption" for a in r.aspects) for r in records)
    faces = [r for r in records if any(a.segment == "face" for a in r.aspects)]
    assert any(r.template_segments for r in faces) and any(not r.template_segments for r in faces)


def test_sentences_split_on_ends_and_list_marks():
    assert sentences("Fresh bread daily. Open at 7am! - free coffee with every loaf") == [
        "fresh bread daily.", "open at 7am!", "free coffee with every loaf"]


def test_check_finds_label_problems():
    ad = {"tones": ["promotional"], "text": "No hidden fees and the app is free. Fees elsewhere? Not here.",
          "aspects": [["fees", "pos"], ["app", "good"]], "overall": "pos", "slogan": "Free banking",
          "slogan_aspects": [["banking", "pos"]]}
    problems = check_ad(ad)
    assert any("'good'" in p for p in problems)
    assert any("occurs again" in p for p in problems)  # "Fees" left untagged


def test_resolve_spans_takes_occurrences_in_order():
    spans, problems = resolve_spans("Our price beats their price.", [["price", "pos"], ["price", "neg"]])
    assert not problems
    assert [(s, e, sentiment) for s, e, _, sentiment, _ in spans] == [(4, 9, "positive"), (22, 27, "negative")]


def test_face_labels_are_stable_and_cover_both_kinds():
    kinds = {face_labels(f"ad-{i}", True, "positive")[2] for i in range(200) if face_labels(f"ad-{i}", True, "positive")[0]}
    assert kinds == {True, False}
    assert face_labels("ad-7", True, "negative") == face_labels("ad-7", True, "negative")


def test_sources_are_json_lines():
    for path in SOURCE_DIR.glob("*/*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                json.loads(line)
    assert BUNDLED["ads"].splits == ("train", "dev", "test", "test_category")


def test_image_mood_hints_at_the_overall_label_without_giving_it_away():
    records = [r for rs in load_records().values() for r in rs]
    mood = [next(a.sentiment for a in r.aspects if a.segment == "caption") for r in records]
    fitting = sum(m == r.overall for m, r in zip(mood, records)) / len(records)
    assert 0.5 < fitting < 0.7


def test_face_report_counts_clear_photos_and_templates():
    from training.data.adcorpus.faces import face_report, photo_of

    records = [r for r in load_records()["test"] if any(a.segment == "face" for a in r.aspects)]
    photo = next(r for r in records if not r.template_segments and photo_of(r.ad_id).clear)
    template = next(r for r in records if r.template_segments)
    rows = []
    for record, sentiment in ((photo, "positive"), (template, "negative")):
        gold = next(a for a in record.aspects if a.segment == "face")
        rows.append({"id": record.ad_id, "gold": [[gold.term, "face", gold.sentiment]],
                     "predicted": [[gold.term, "face", sentiment, 0.9]]})
    report = face_report(rows)
    clear = report["real photos with a clear expression"]
    assert clear["ads"] == 1 and clear["right"] == int(next(
        a.sentiment for a in photo.aspects if a.segment == "face") == "positive")
    assert report["template face sentences"]["ads"] == 1
