"""JMASA metrics against hand-computed cases."""

from __future__ import annotations

import json

import pytest

from training.data import AspectSpan
from training.metrics import (
    REPORT_KEYS,
    MetricsInputError,
    ate_scores,
    evaluate,
    flatten,
    format_table,
    jmasa_scores,
    masc_scores,
    overall_scores,
    per_dimension_scores,
    resolve,
    write_report,
)

GOLD = [
    [(0, 5, "positive"), (10, 15, "negative")],
    [(3, 8, "neutral")],
    [],
]
PRED = [
    [(0, 5, "positive"), (10, 15, "positive"), (20, 22, "neutral")],  # 1 exact, 1 wrong sentiment, 1 spurious
    [(3, 9, "neutral")],                                                # partial overlap = wrong
    [(1, 2, "negative")],                                               # spurious on empty gold
]


def test_jmasa_counts_exact_span_and_sentiment():
    scores = jmasa_scores(GOLD, PRED)
    assert (scores["correct"], scores["predicted"], scores["gold"]) == (1, 5, 3)
    assert scores["precision"] == pytest.approx(1 / 5)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * (1 / 5) * (1 / 3) / (1 / 5 + 1 / 3))


def test_ate_ignores_sentiment_but_not_boundaries():
    scores = ate_scores(GOLD, PRED)
    assert (scores["correct"], scores["predicted"], scores["gold"]) == (2, 5, 3)
    assert scores["f1"] == pytest.approx(2 * 0.4 * (2 / 3) / (0.4 + 2 / 3))


def test_masc_on_correctly_extracted_gold_spans():
    # extracted gold spans: (0,5) pos->pos, (10,15) neg->pos
    scores = masc_scores(GOLD, PRED)
    assert scores["support"] == 2
    assert scores["accuracy"] == pytest.approx(0.5)
    # classes {negative, positive}: F1(pos) = 2*(1/2*1)/(1/2+1) = 2/3, F1(neg) = 0
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)


def test_empty_predictions():
    scores = evaluate(GOLD, [[], [], []])
    assert scores["jmasa"]["precision"] == 0.0 and scores["jmasa"]["recall"] == 0.0 and scores["jmasa"]["f1"] == 0.0
    assert scores["ate"]["gold"] == 3 and scores["ate"]["predicted"] == 0
    assert scores["masc"]["support"] == 0 and scores["masc"]["accuracy"] == 0.0


def test_empty_gold():
    scores = jmasa_scores([[], []], [[(0, 1, "positive")], []])
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)
    assert jmasa_scores([[]], [[]], zero_division=1.0)["f1"] == 1.0


def test_all_wrong_and_all_right():
    gold = [[(0, 4, "positive")], [(2, 6, "negative")]]
    wrong = [[(0, 4, "negative")], [(2, 5, "negative")]]
    assert jmasa_scores(gold, wrong)["f1"] == 0.0
    assert ate_scores(gold, wrong)["correct"] == 1
    assert masc_scores(gold, wrong)["accuracy"] == 0.0
    perfect = evaluate(gold, gold)
    assert perfect["jmasa"]["f1"] == perfect["ate"]["f1"] == perfect["masc"]["macro_f1"] == 1.0


def test_duplicates_count_once_and_conflicts_raise():
    assert jmasa_scores([[(0, 1, "positive")]], [[(0, 1, "positive"), (0, 1, "positive")]])["precision"] == 1.0
    with pytest.raises(MetricsInputError):
        jmasa_scores([[(0, 1, "positive")]], [[(0, 1, "positive"), (0, 1, "negative")]])
    with pytest.raises(MetricsInputError):
        jmasa_scores([[]], [])


def test_segment_is_part_of_the_location():
    gold = [[AspectSpan(0, 3, "red", "positive", "caption")]]
    pred = [[AspectSpan(0, 3, "red", "positive", "ad_copy")]]
    assert jmasa_scores(gold, pred)["correct"] == 0
    assert jmasa_scores(gold, gold)["correct"] == 1


def test_overall_skips_unlabelled_and_counts_missing_predictions_wrong():
    scores = overall_scores(["positive", None, "negative", "negative"], ["positive", "neutral", None, "negative"])
    assert scores["support"] == 3
    assert scores["accuracy"] == pytest.approx(2 / 3)
    # pos: P=1 R=1 F1=1; neg: tp=1, predicted=1, gold=2 -> P=1, R=.5, F1=2/3
    assert scores["macro_f1"] == pytest.approx((1 + 2 / 3) / 2)


def test_per_dimension_by_callable_and_by_field():
    gold = [[(0, 3, "positive"), (5, 9, "negative")]]
    pred = [[(0, 3, "positive"), (5, 9, "positive")]]
    dims = per_dimension_scores(gold, pred, lambda span: "color" if span[0] == 0 else "text")
    assert dims["color"]["jmasa"]["f1"] == 1.0 and dims["text"]["jmasa"]["f1"] == 0.0
    assert dims["text"]["ate"]["f1"] == 1.0
    spans = [[AspectSpan(0, 3, "red", "positive", "caption")]]
    assert list(per_dimension_scores(spans, spans, "segment")) == ["caption"]
    with pytest.raises(MetricsInputError):
        per_dimension_scores(gold, pred, lambda span: "a.b")


def test_report_json_has_resolvable_keys(tmp_path):
    metrics = evaluate(GOLD, PRED, ["positive", "neutral", None], ["positive", "negative", "neutral"],
                       dimension=lambda span: "text")
    path = write_report(metrics, tmp_path / "report.json", meta={"split": "test"})
    document = json.loads(path.read_text())
    for key in REPORT_KEYS:
        resolve(document, key)
    assert resolve(document, "jmasa.f1") == pytest.approx(metrics["jmasa"]["f1"])
    assert flatten(document)["per_dimension.text.jmasa.gold"] == 3
    assert "JMASA" in format_table(metrics) and "text" in format_table(metrics)
    with pytest.raises(KeyError):
        resolve(document, "jmasa.nothing")
