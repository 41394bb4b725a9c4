"""Fast tests of the describe stage's pure parts: line grouping, merging, metrics, colours, N_z."""

from __future__ import annotations

from PIL import Image

from model.describe.caption import OfflineCaptioner, Seen, position
from model.describe.colors import palette
from model.describe.compose import compose
from model.describe.config import DescribeConfig
from model.describe.faces import face_sentence, head_pose
from model.describe.ocr import Word, group_lines, merge_passes, working_scale
from training.ocr_eval import char_accuracy, word_recall
from model.describe.regions import offline_regions
from schemas.description import Face, HeadPose, OcrResult

import numpy as np

CONFIG = DescribeConfig()


def word(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.9) -> Word:
    return Word(text=text, box=(x0, y0, x1, y1), confidence=conf)


def test_group_lines_reading_order_and_columns() -> None:
    words = [word("SALE", 120, 10, 200, 40), word("SUMMER", 10, 12, 110, 42), word("today", 10, 100, 80, 120),
             word("far", 600, 100, 640, 120)]
    lines = group_lines(words, CONFIG)
    assert [l.text for l in lines] == ["SUMMER SALE", "today", "far"]
    assert lines[0].box == (10, 10, 200, 42)


def test_merge_passes_keeps_the_surer_duplicate() -> None:
    merged = merge_passes([[word("SALF", 0, 0, 50, 20, 0.5)], [word("SALE", 1, 0, 50, 21, 0.9), word("now", 60, 0, 90, 20)]],
                          CONFIG.ocr_merge_iou)
    assert sorted(w.text for w in merged) == ["SALE", "now"]


def test_working_scale() -> None:
    assert working_scale((500, 250), CONFIG) == CONFIG.ocr_min_side / 500
    assert working_scale((4000, 100), CONFIG) == CONFIG.ocr_max_side / 4000
    assert working_scale((1200, 900), CONFIG) == 1.0


def test_metrics() -> None:
    assert char_accuracy("Big Sale", "big  sale") == 1.0
    assert char_accuracy("abcd", "abXd") == 0.75
    assert char_accuracy("ab", "completely different") == 0.0
    assert word_recall("Up to 50% off", "up to 50% of") == 0.75


def test_palette_names_colours() -> None:
    red = palette(Image.new("RGB", (32, 32), (220, 20, 20)), CONFIG)
    assert red.colors[0][0] == "red" and red.warmth > 0.9
    blue = palette(Image.new("RGB", (32, 32), (20, 40, 200)), CONFIG)
    assert blue.colors[0][0] == "blue" and blue.warmth < -0.9
    assert palette(Image.new("RGB", (8, 8), (0, 0, 0)), CONFIG).colors[0][0] == "black"


def make_face(i: int, text: str) -> Face:
    return Face(box=(10.0, 10.0, 50.0, 50.0), confidence=0.99, expression="happy", expression_score=0.9,
                age=30.0, gender="female", gender_score=0.9, pose=HeadPose(yaw=0, pitch=0, roll=0), text=text)


def test_compose_offsets_trace_back() -> None:
    from schemas.description import OcrLine

    ocr = OcrResult(engine="t", text="BIG SALE\nnow", lines=(
        OcrLine(text="BIG SALE", box=(0, 0, 10, 10), confidence=0.9), OcrLine(text="now", box=(0, 20, 10, 30), confidence=0.9)))
    faces = (make_face(0, "a happy woman"), make_face(1, "a sad man"))
    context, segments = compose("A red image.", faces, ocr, "[SEP]")
    assert context == "A red image. [SEP] a happy woman; a sad man [SEP] BIG SALE / now [SEP]"
    pieces = {(s.name, s.index): context[s.start:s.end] for s in segments}
    assert pieces == {("caption", 0): "A red image.", ("face", 0): "a happy woman", ("face", 1): "a sad man",
                      ("ocr", 0): "BIG SALE / now"}


def test_compose_empty_parts_keep_separators() -> None:
    context, segments = compose("A photo.", (), OcrResult(engine="t", text=""), "[SEP]")
    assert context.count("[SEP]") == 3 and [s.name for s in segments] == ["caption"]


def test_head_pose_frontal_and_turned() -> None:
    frontal = np.array([[30, 40], [70, 40], [50, 62], [35, 80], [65, 80]], dtype=float)
    pose = head_pose(frontal)
    assert abs(pose.yaw) < 5 and abs(pose.roll) < 1 and abs(pose.pitch) < 10
    turned = frontal.copy()
    turned[2, 0] = 30  # nose far to one side
    assert abs(head_pose(turned).yaw) > 30


def test_face_sentence() -> None:
    text = face_sentence({"gender": "male", "age": 41.2, "expression": "surprise", "pose": HeadPose(yaw=35, pitch=0, roll=0)})
    assert text == "a 41-year-old man with a surprised expression looking to the side"
    assert face_sentence({"gender": "unknown", "age": None, "expression": "angry", "pose": None}).startswith("a person")


def test_offline_caption_mentions_what_was_seen() -> None:
    from schemas.description import OcrLine

    image = Image.new("RGB", (300, 300), (230, 30, 30))
    ocr = OcrResult(engine="t", text="SALE", lines=(OcrLine(text="SALE", box=(100, 10, 200, 60), confidence=0.9),))
    text = OfflineCaptioner(CONFIG).one(image, Seen(faces=(make_face(0, "x"),), ocr=ocr, labels=(("espresso", 0.8),)))
    assert "red" in text and "warm" in text and "espresso" in text
    assert "a woman at the top left" in text and "at the top centre" in text
    assert position((0, 250, 20, 290), 300, 300) == "bottom left"


def test_offline_regions_ranked_and_capped() -> None:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 90, 3), dtype=np.uint8))
    regions = offline_regions(image, (make_face(0, "x"),), OcrResult(engine="t", text=""), DescribeConfig(top_c=3))
    assert len(regions) == 3 and regions[0].source == "face"
    assert [r.score for r in regions] == sorted((r.score for r in regions), reverse=True)
