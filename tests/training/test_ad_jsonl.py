"""The project's ad JSONL format: schema validation and the loader's typed errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.dataset import AdRecord
from training.data import DatasetError, DatasetErrorCode, load_jsonl, write_jsonl

GOOD = {"ad_id": "ad-1", "image": "images/ad-1.png", "text": "Great battery life, awful price.",
        "aspects": [{"start": 6, "end": 18, "term": "battery life", "sentiment": "positive"},
                    {"start": 26, "end": 31, "term": "price", "sentiment": "negative"}],
        "overall": "positive"}


def _write(path: Path, *rows: dict | str) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_valid_record_roundtrips(tmp_path: Path):
    path = _write(tmp_path / "ads.jsonl", GOOD)
    (tmp_path / "images").mkdir()
    [example] = load_jsonl(path, images_dir=tmp_path)
    assert example.example_id == "ad-1" and example.overall == "positive"
    assert [(a.term, a.sentiment, a.segment) for a in example.aspects] == [
        ("battery life", "positive", "ad_copy"), ("price", "negative", "ad_copy")]
    assert example.image_path == tmp_path / "images/ad-1.png"
    copy = tmp_path / "copy.jsonl"
    write_jsonl([AdRecord.model_validate(GOOD)], copy)
    assert load_jsonl(copy) == [load_jsonl(path)[0]]


@pytest.mark.parametrize("change, fragment", [
    ({"aspects": [{"start": 0, "end": 5, "term": "Great", "sentiment": "positive"},
                  {"start": 3, "end": 8, "term": "at ba", "sentiment": "neutral"}]}, "overlap"),
    ({"aspects": [{"start": 0, "end": 5, "term": "Grea", "sentiment": "positive"}]}, "not the term"),
    ({"aspects": [{"start": 5, "end": 5, "term": "x", "sentiment": "positive"}]}, "greater than"),
    ({"aspects": [{"start": 0, "end": 5, "term": "Great", "sentiment": "happy"}]}, "positive"),
    ({"colour": "red"}, "extra"),
    ({"aspects": [{"start": 0, "end": 3, "term": "red", "sentiment": "positive", "segment": "caption"}]},
     "generated.caption"),
])
def test_invalid_records_are_rejected(change: dict, fragment: str):
    with pytest.raises(ValidationError, match=fragment):
        AdRecord.model_validate({**GOOD, **change})


def test_generated_segment_offsets_point_into_the_snapshot():
    record = AdRecord.model_validate({**GOOD, "generated": {"caption": "a red car on a road"},
                                      "aspects": [{"start": 2, "end": 9, "term": "red car", "sentiment": "positive",
                                                   "segment": "caption"},
                                                  {"start": 0, "end": 5, "term": "Great", "sentiment": "positive"}]})
    assert record.segment_text("caption")[2:9] == "red car"


def test_bad_line_reports_its_number(tmp_path: Path):
    bad = {**GOOD, "ad_id": "ad-2", "aspects": [{"start": 0, "end": 3, "term": "Gre!", "sentiment": "positive"}]}
    path = _write(tmp_path / "ads.jsonl", GOOD, "", bad)
    with pytest.raises(DatasetError) as info:
        load_jsonl(path)
    assert info.value.code is DatasetErrorCode.INVALID_RECORD and info.value.line == 3
    assert "invalid_value" in str(info.value)
    with pytest.raises(DatasetError) as info:
        load_jsonl(_write(tmp_path / "broken.jsonl", GOOD, "{not json"))
    assert info.value.line == 2
    with pytest.raises(DatasetError) as info:
        load_jsonl(_write(tmp_path / "dup.jsonl", GOOD, GOOD))
    assert info.value.code is DatasetErrorCode.DUPLICATE_ID and info.value.line == 2
