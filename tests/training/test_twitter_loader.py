"""Twitter-2015/2017 loaders on the real published files (skipped when absent) and on tiny files."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from training.data import DatasetError, DatasetErrorCode, load_twitter, load_twitter_splits

# The public benchmark lives beside the repository (../shared/data/twitter2015); override with the variable.
DEFAULT_TWITTER2015 = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "twitter2015"
TWITTER2015 = Path(os.environ.get("ADSENT_TWITTER2015_DIR", str(DEFAULT_TWITTER2015)))
needs_twitter = pytest.mark.skipif(not (TWITTER2015 / "train.txt").is_file(), reason="Twitter-2015 not available")

TXT = ("RT @ a : $T$ is great # X\nChuck Bass\n1\n111.jpg\n"
       "RT @ a : Chuck Bass is great $T$ \n# X\n0\n111.jpg\n"
       "$T$ was awful\nThe game\n-1\n222.jpg\n")
TSV = ("index\t#1 Label\t#2 ImageID\t#3 String\t#3 String\n"
       "1\t2\t111.jpg\tRT @ a : $T$ is great # X\tChuck Bass\n"
       "2\t1\t111.jpg\tRT @ a : Chuck Bass is great $T$\t# X\n"
       "3\t0\t222.jpg\t$T$ was awful\tThe game\n")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "train.txt").write_text(TXT, encoding="utf-8")
    (tmp_path / "train.tsv").write_text(TSV, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("fmt", ["txt", "tsv"])
def test_rows_of_one_sentence_merge(tiny: Path, fmt: str):
    examples = load_twitter(tiny, "train", fmt)
    assert len(examples) == 2
    first = examples[0]
    assert first.text == "RT @ a : Chuck Bass is great # X"
    assert [(a.term, a.sentiment) for a in first.aspects] == [("Chuck Bass", "positive"), ("# X", "neutral")]
    for aspect in first.aspects:
        assert first.text[aspect.start:aspect.end] == aspect.term
    assert examples[1].aspects[0].sentiment == "negative"
    assert first.image_path is None and first.image_ref == "111.jpg"


def test_images_dir_resolves_and_missing_is_logged_once(tiny: Path, caplog: pytest.LogCaptureFixture):
    images = tiny / "images"
    images.mkdir()
    (images / "111.jpg").write_bytes(b"x")
    with caplog.at_level(logging.INFO, logger="training.data.twitter"):
        examples = load_twitter(tiny, "train", "txt", images_dir=images)
        assert examples[0].image_path == images / "111.jpg"
        assert examples[1].image_path is None
        load_twitter(tiny, "train", "txt", images_dir=tiny / "nowhere")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("images of" in m for m in messages) == 1
    assert sum("no images directory" in m for m in messages) == 1


def test_bad_rows_raise_typed_errors(tmp_path: Path):
    (tmp_path / "train.txt").write_text("no target here\nX\n1\n1.jpg\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_twitter(tmp_path, "train")
    assert info.value.code is DatasetErrorCode.TARGET_NOT_FOUND and info.value.line == 1
    (tmp_path / "dev.txt").write_text("$T$ a\nX\n7\n1.jpg\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_twitter(tmp_path, "dev")
    assert info.value.code is DatasetErrorCode.BAD_LABEL and info.value.line == 3
    (tmp_path / "test.txt").write_text("$T$ a\nX\n1\n1.jpg\n$T$ a\nX\n-1\n1.jpg\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_twitter(tmp_path, "test")
    assert info.value.code is DatasetErrorCode.CONFLICTING_SPANS
    with pytest.raises(DatasetError) as info:
        load_twitter(tmp_path, "train", "tsv")
    assert info.value.code is DatasetErrorCode.FILE_NOT_FOUND


@needs_twitter
def test_twitter2015_counts_and_formats_agree():
    txt = load_twitter_splits(TWITTER2015, "txt")
    tsv = load_twitter_splits(TWITTER2015, "tsv")
    rows = {split: sum(len(e.aspects) for e in examples) for split, examples in txt.items()}
    assert rows == {"train": 3179, "dev": 1122, "test": 1037}  # the published row counts
    assert {split: len(examples) for split, examples in txt.items()} == {"train": 2101, "dev": 727, "test": 674}
    assert txt == tsv
    for example in txt["train"]:
        for aspect in example.aspects:
            assert example.text[aspect.start:aspect.end] == aspect.term
