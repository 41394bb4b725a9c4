"""The unified aspect-sentiment tag format (E2E-ABSA review sets) into examples with character spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.data.errors import DatasetError, DatasetErrorCode
from training.data.unified import load_unified, parse_line

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "e2e-absa"
SOURCE = Path("rest14/train.txt")


def terms(line: str) -> list[tuple[str, str, bool]]:
    example = parse_line(line, SOURCE, 1)
    found = [(a.term, a.sentiment, a.resolved) for a in example.aspects]
    for aspect in example.aspects:
        if aspect.resolved:
            assert example.text[aspect.start:aspect.end] == aspect.term
    return found


def test_multi_token_terms_and_nt():
    line = ("The battery life couldn't be better, but the screen is dim.####The=O battery=T-POS life=T-POS could=O "
            "n't=O be=O better=O ,=O but=O the=O screen=T-NEG is=O dim=O .=O")
    assert terms(line) == [("battery life", "positive", True), ("screen", "negative", True)]


def test_adjacent_terms_of_different_sentiments_are_two_aspects():
    line = "Great food service.####Great=O food=T-POS service=T-NEG .=O"
    assert terms(line) == [("food", "positive", True), ("service", "negative", True)]


def test_punctuation_the_files_dropped_or_changed():
    line = ("Not only was the food outstanding, but the little 'perks' were great.####Not=O only=O was=O the=O "
            "food=T-POS outstanding=O ,=O but=O the=O little=O perks=T-POS were=O great=O .=O")
    assert terms(line) == [("food", "positive", True), ("perks", "positive", True)]
    line = "Friends from L.A. love it - the sushi bar.####Friends=O from=O LA=T-NEU love=O it=O ,=O the=O sushi=T-POS bar=T-POS .=O"
    assert terms(line) == [("L.A", "neutral", True), ("sushi bar", "positive", True)]


def test_lemmatised_tokens_cover_the_whole_word():
    line = "I ordered for delivery.####I=O order=T-NEG for=O delivery=T-NEG .=O"
    assert terms(line) == [("ordered", "negative", True), ("delivery", "negative", True)]


def test_a_garbled_aspect_is_kept_as_an_unresolved_gold_span():
    line = "Great fish here.####Great=O fish=T-POS here=O ,=O sake=T-POS .=O"
    assert terms(line) == [("fish", "positive", True), ("sake", "positive", False)]


def test_errors_name_the_line():
    with pytest.raises(DatasetError) as error:
        parse_line("no tags here", SOURCE, 7)
    assert error.value.code == DatasetErrorCode.BAD_ROW and ":7:" in str(error.value)
    with pytest.raises(DatasetError) as error:
        parse_line("Food.####Food=T-GOOD .=O", SOURCE, 3)
    assert error.value.code == DatasetErrorCode.BAD_LABEL
    with pytest.raises(DatasetError) as error:
        load_unified(Path("/nonexistent/train.txt"))
    assert error.value.code == DatasetErrorCode.FILE_NOT_FOUND


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the E2E-ABSA review sets are not at {SHARED}")
def test_the_public_review_sets_load_with_their_published_sizes():
    sizes = {"laptop14": (2741, 304, 800), "rest14": (2736, 304, 800), "rest15": (1183, 130, 685),
             "rest16": (1799, 200, 676)}
    for name, expected in sizes.items():
        loaded = tuple(len(load_unified(SHARED / name / f"{split}.txt")) for split in ("train", "dev", "test"))
        assert loaded == expected, name
