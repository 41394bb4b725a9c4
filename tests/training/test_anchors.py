"""Labels on generated texts re-anchored to the describe stage's output, template faces, per-segment scores."""

from __future__ import annotations

from model.describe.compose import compose
from schemas.description import Description, Face, ImageInfo, OcrLine, OcrResult
from schemas.events import AttributeSentiment
from training.anchors import anchor, anchor_counts, with_templates
from training.batches import Prepared
from training.data.examples import AspectSpan, JmasaExample
from training.evaluation import score


def description(caption: str, faces: tuple[str, ...], lines: tuple[str, ...]) -> Description:
    face_objs = tuple(Face(box=(1.0, 1.0, 9.0, 9.0), confidence=0.9, expression="happy", expression_score=0.9, text=t)
                      for t in faces)
    ocr = OcrResult(engine="test", text="\n".join(lines),
                    lines=tuple(OcrLine(text=t, box=(0.0, 0.0, 5.0, 5.0), confidence=0.9) for t in lines))
    context, segments = compose(caption, face_objs, ocr, "[SEP]")
    return Description(image=ImageInfo(width=8, height=8, format="PNG", sha256="0" * 64), caption=caption,
                       faces=face_objs, ocr=ocr, visual_context=context, segments=segments)


def example(templated: bool = False) -> JmasaExample:
    slogan, face = "Cold pizza again?", "a 30-year-old woman with a happy expression looking at the camera"
    return JmasaExample(
        "ad-1", "Hot pizza in 20 minutes.", (
            AspectSpan(4, 9, "pizza", "positive"),
            AspectSpan(0, 4, "Cold", "neutral", "ocr"),
            AspectSpan(5, 10, "pizza", "negative", "ocr", "text"),
            AspectSpan(face.index("woman"), face.index("woman") + 5, "woman", "positive", "face", "face"),
            AspectSpan(12, 15, "red", "positive", "caption", "color"),
        ), "positive", generated=(("caption", "an image in red"), ("face", face), ("ocr", slogan)),
        template_segments=("face",) if templated else ())


def predictions(example: JmasaExample) -> list[AttributeSentiment]:
    """The example's resolved gold spans as a model's attributes (confidence 1)."""
    return [AttributeSentiment(term=s.term, segment=s.segment, dimension=s.dimension or "object", start=s.start,
                               end=s.end, sentiment=s.sentiment, confidence=1.0) for s in example.aspects if s.resolved]


def test_ocr_terms_are_found_case_insensitively_across_lines_and_misses_are_kept():
    seen = description("A bright image in orange and white.", ("a man with a sad expression looking up",),
                       ("COLD", "PIZZA AGAIN?"))
    anchored = anchor(example(), seen)
    by_segment = {(s.segment, s.term): s for s in anchored.aspects}
    texts = dict(anchored.generated)
    pizza = by_segment[("ocr", "PIZZA")]
    assert texts["ocr"][pizza.start:pizza.end] == "PIZZA" and pizza.resolved
    assert by_segment[("face", "man")].sentiment == "positive"  # the label's sentiment, the reader's person word
    assert texts["caption"][by_segment[("caption", "orange")].start:] .startswith("orange")
    assert anchor_counts([anchored])["ocr"] == {"resolved": 2, "unresolved": 0}


def test_a_label_the_output_lacks_is_unresolved_and_matches_nothing():
    seen = description("A dark image.", (), ("SALE",))
    anchored = anchor(example(), seen)
    counts = anchor_counts([anchored])
    assert counts["face"] == {"resolved": 0, "unresolved": 1}
    assert counts["ocr"] == {"resolved": 0, "unresolved": 2}
    missed = [s for s in anchored.aspects if not s.resolved]
    assert all(s.location[1] == "unresolved" for s in missed)
    metrics = score([Prepared(anchored)], [[]], ["positive"])
    assert metrics["jmasa"]["gold"] == 5 and metrics["per_segment"]["ocr"]["jmasa"]["gold"] == 2


def test_a_template_face_replaces_what_was_read():
    seen = description("A bright image in red.", (), ("COLD PIZZA AGAIN?",))
    templated = example(templated=True)
    composed = with_templates(seen, templated)
    assert composed.faces[0].text == templated.segment_text("face")
    anchored = anchor(templated, composed)
    assert anchor_counts([anchored])["face"] == {"resolved": 1, "unresolved": 0}
    metrics = score([Prepared(anchored)], [predictions(anchored)], ["positive"])
    assert metrics["jmasa"]["f1"] == 1.0
    assert metrics["per_segment"]["face_template"]["jmasa"]["f1"] == 1.0 and "face_photo" not in metrics["per_segment"]
    assert metrics["dimension_rule"]["support"] == 3  # the spans with a gold dimension


def test_prediction_rows_list_misses_spurious_and_wrong_sentiments():
    from training.evaluation import is_error, prediction_rows

    seen = description("A bright image in red.", (), ("COLD PIZZA AGAIN?",))
    anchored = anchor(example(templated=True), with_templates(seen, example(templated=True)))
    caption = next(s for s in anchored.aspects if s.segment == "caption")
    predicted = [AttributeSentiment(term="pizza", segment="ad_copy", dimension="object", start=4, end=9,
                                    sentiment="negative", confidence=0.9),
                 AttributeSentiment(term="minutes", segment="ad_copy", dimension="object", start=15, end=22,
                                    sentiment="neutral", confidence=0.9),
                 AttributeSentiment(term=caption.term, segment="caption", dimension="color", start=caption.start,
                                    end=caption.end, sentiment=caption.sentiment, confidence=0.9)]
    (row,) = prediction_rows([Prepared(anchored)], [predicted], ["neutral"])
    assert is_error(row)
    assert row["wrong_sentiment"] == [("pizza", "ad_copy", "positive", "negative")]
    assert row["spurious"] == [("minutes", "ad_copy", "neutral")]
    assert {(t, s) for t, s, _ in row["missed"]} == {("COLD", "ocr"), ("PIZZA", "ocr"), ("woman", "face")}
    assert row["overall"] == ["positive", "neutral"]
    (right,) = prediction_rows([Prepared(anchored)], [predictions(anchored)], ["positive"])
    assert not is_error(right)
