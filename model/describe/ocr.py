"""Character-level text (Eq. 3): OCR engines, ad-typography preprocessing and line grouping.

Engines share one protocol, :class:`OcrEngine`; :func:`build_ocr` picks one by name. Tesseract
(the paper's engine) runs on a working copy of the image: upscaled so small print reaches a
readable x-height, greyed, optionally binarised adaptively, and read twice (normal and inverted),
since Tesseract reads dark-on-light text best and ads often print light on dark.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image, ImageOps

from model.describe.config import DescribeConfig
from schemas.description import OcrLine, OcrResult, OcrWord

log = logging.getLogger(__name__)


class OcrError(RuntimeError):
    """The OCR engine itself failed (missing binary, timeout): a fault of the service, not the image."""


@dataclass(frozen=True)
class Word:
    text: str
    box: tuple[float, float, float, float]
    confidence: float


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image.Image) -> OcrResult:
        """All text in ``image`` (RGB), lines in reading order."""
        ...


# --- geometry -----------------------------------------------------------------------------------

def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _overlap_of_smaller(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Overlap of the two boxes (as areas) relative to the smaller box."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / smaller if smaller > 0 else 0.0


def merge_passes(passes: list[list[Word]], iou: float) -> list[Word]:
    """Union of the words of several passes; of overlapping words the most confident is kept."""
    kept: list[Word] = []
    for word in sorted((w for p in passes for w in p), key=lambda w: -w.confidence):
        if all(_iou(word.box, k.box) < iou and _overlap_of_smaller(word.box, k.box) < 0.8 for k in kept):
            kept.append(word)
    return kept


def _vertical_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    inter = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min(a[3] - a[1], b[3] - b[1])
    return inter / smaller if smaller > 0 else 0.0


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def group_lines(words: list[Word], config: DescribeConfig) -> list[OcrLine]:
    """Words -> lines in reading order (top to bottom, then left to right)."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        for row in rows:
            if any(_vertical_overlap(word.box, other.box) >= config.ocr_line_overlap for other in row):
                row.append(word)
                break
        else:
            rows.append([word])
    lines: list[OcrLine] = []
    for row in rows:
        row.sort(key=lambda w: w.box[0])
        pieces: list[list[Word]] = [[row[0]]]
        for word in row[1:]:
            previous = pieces[-1][-1]
            height = max(previous.box[3] - previous.box[1], word.box[3] - word.box[1])
            if word.box[0] - previous.box[2] > config.ocr_line_gap * height:
                pieces.append([word])
            else:
                pieces[-1].append(word)
        for piece in pieces:
            box = _union([w.box for w in piece])
            lines.append(OcrLine(
                text=" ".join(w.text for w in piece), box=box,
                confidence=float(np.mean([w.confidence for w in piece])),
                words=tuple(OcrWord(text=w.text, box=w.box, confidence=w.confidence) for w in piece)))
    lines.sort(key=lambda line: (round(line.box[1] / max(line.box[3] - line.box[1], 1.0)), line.box[0]))
    return lines


def keep_word(text: str, confidence: float, config: DescribeConfig) -> bool:
    """Drop low-confidence noise and words without a letter or digit."""
    return (confidence >= config.ocr_min_confidence and len(text) >= config.ocr_min_word_chars
            and any(ch.isalnum() for ch in text))


def result(engine: str, words: list[Word], config: DescribeConfig) -> OcrResult:
    lines = group_lines(words, config)
    return OcrResult(engine=engine, text="\n".join(line.text for line in lines), lines=tuple(lines))


# --- preprocessing ------------------------------------------------------------------------------

def working_scale(size: tuple[int, int], config: DescribeConfig) -> float:
    """Factor to the working resolution: small images up to ``ocr_min_side``, never above ``ocr_max_side``."""
    longest = max(size)
    if longest < config.ocr_min_side:
        return config.ocr_min_side / longest
    if longest > config.ocr_max_side:
        return config.ocr_max_side / longest
    return 1.0


def adaptive_binarise(grey: Image.Image, config: DescribeConfig) -> Image.Image:
    """Local-mean threshold (OpenCV): survives gradients that defeat one global threshold."""
    import cv2

    binary = cv2.adaptiveThreshold(np.asarray(grey), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                   config.ocr_adaptive_block, config.ocr_adaptive_offset)
    return Image.fromarray(binary)


def ocr_views(image: Image.Image, config: DescribeConfig, preprocess: str) -> tuple[float, list[Image.Image]]:
    """The images a Tesseract read runs on, and their scale relative to ``image``."""
    if preprocess == "plain":
        return 1.0, [image]
    scale = working_scale(image.size, config)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    grey = ImageOps.grayscale(image)
    if scale != 1.0:
        grey = grey.resize(size, Image.LANCZOS)
    if preprocess == "upscale":
        return scale, [grey]
    if preprocess == "adaptive":
        return scale, [adaptive_binarise(grey, config), adaptive_binarise(ImageOps.invert(grey), config)]
    if preprocess == "two_pass":
        return scale, [grey, ImageOps.invert(grey)]
    raise ValueError(f"unknown OCR preprocessing {preprocess!r}; use plain, upscale, adaptive, two_pass or text_regions")


def line_views(crop: Image.Image) -> list[Image.Image]:
    """A line crop both ways up: Tesseract reads dark on light; ads also print light on dark.

    (Otsu-binarised views were measured too and read outlined letters on photos no better.)
    """
    return [crop, ImageOps.invert(crop)]


def rapidocr_params(config: DescribeConfig) -> dict[str, object]:
    """rapidocr settings from the config: detector side as a cap on the longer side, threads, line classifier.

    rapidocr's own default scales the SHORTER side up to the detector side, so a 800x450 ad was
    detected at 1308x736; capping the longer side bounds the cost of every image.
    """
    from schemas.logs import library_level

    threads = config.ocr_threads if config.ocr_threads > 0 else -1
    return {"Global.log_level": logging.getLevelName(library_level("RapidOCR")).lower(), "Det.limit_type": "max", "Det.limit_side_len": config.text_det_side,
            "Global.use_cls": config.ocr_angle_classifier,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": threads}


class TextDetector:
    """Text-line quadrilaterals from PP-OCR's DB detector (rapidocr's bundled ONNX model), no recognition."""

    def __init__(self, config: DescribeConfig) -> None:
        from rapidocr import RapidOCR

        self.config = config
        self._engine = RapidOCR(params=rapidocr_params(config))

    def quads(self, image: Image.Image) -> list[np.ndarray]:
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        output = self._engine(bgr, use_det=True, use_cls=False, use_rec=False)
        if output.boxes is None:
            return []
        return [np.asarray(q, dtype=np.float32) for q in output.boxes]


def line_crop(grey: np.ndarray, quad: np.ndarray, config: DescribeConfig) -> Image.Image:
    """The text line inside ``quad`` (tl, tr, br, bl), deskewed, padded and scaled to ``ocr_line_height``."""
    import cv2

    width = float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]), 1.0))
    height = float(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]), 1.0))
    scale = config.ocr_line_height / height
    pad = config.ocr_line_pad * config.ocr_line_height
    out_w, out_h = int(round(width * scale + 2 * pad)), int(round(config.ocr_line_height + 2 * pad))
    target = np.array([[pad, pad], [pad + width * scale, pad], [pad + width * scale, pad + config.ocr_line_height],
                       [pad, pad + config.ocr_line_height]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(quad, target)
    crop = cv2.warpPerspective(grey, warp, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return Image.fromarray(crop)


# --- engines ------------------------------------------------------------------------------------

class TesseractOcr:
    """Tesseract through pytesseract, with the configured preprocessing."""

    def __init__(self, config: DescribeConfig, preprocess: str | None = None) -> None:
        import pytesseract

        self.config = config
        self.preprocess = preprocess or config.ocr_preprocess
        self._tess = pytesseract
        self._detector: TextDetector | None = None
        try:
            version = pytesseract.get_tesseract_version()
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise OcrError("the tesseract binary is not installed (apt-get install tesseract-ocr)") from exc
        self.name = f"tesseract-{version.major}.{version.minor}/{self.preprocess}"

    def _data(self, view: Image.Image, psm: int) -> dict[str, list]:
        tess = self._tess
        try:
            return tess.image_to_data(view, lang=self.config.ocr_language, config=f"--psm {psm}",
                                      output_type=tess.Output.DICT, timeout=self.config.ocr_timeout_s)
        except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
            raise OcrError(f"tesseract timed out after {self.config.ocr_timeout_s}s") from exc
        except tess.TesseractError as exc:
            raise OcrError(f"tesseract failed: {exc}") from exc

    def _words(self, view: Image.Image, scale: float) -> list[Word]:
        data = self._data(view, self.config.ocr_psm)
        words: list[Word] = []
        for text, conf, left, top, width, height in zip(data["text"], data["conf"], data["left"], data["top"],
                                                        data["width"], data["height"]):
            text, confidence = text.strip(), float(conf) / 100.0
            if not keep_word(text, confidence, self.config):
                continue
            box = (left / scale, top / scale, (left + width) / scale, (top + height) / scale)
            words.append(Word(text=text, box=box, confidence=min(confidence, 1.0)))
        return words

    def _line(self, crop: Image.Image, quad: np.ndarray) -> list[Word]:
        """Read one deskewed line both ways up (dark on light, light on dark); keep the surer read."""
        best: list[tuple[str, float]] = []
        best_score = -1.0
        for view in line_views(crop):
            data = self._data(view, self.config.ocr_line_psm)
            tokens = [(t.strip(), float(c) / 100.0) for t, c in zip(data["text"], data["conf"])
                      if t.strip() and float(c) >= 0]
            score = sum(c * len(t) for t, c in tokens)
            if score > best_score:
                best, best_score = tokens, score
        kept = [(t, c) for t, c in best if keep_word(t, c, self.config)]
        if not kept:
            return []
        x0, y0 = float(quad[:, 0].min()), float(quad[:, 1].min())
        x1, y1 = float(quad[:, 0].max()), float(quad[:, 1].max())
        total = sum(len(t) + 1 for t, _ in kept)
        words, cursor = [], 0
        for text, conf in kept:  # word boxes as shares of the line box
            start, cursor = cursor, cursor + len(text) + 1
            words.append(Word(text=text, confidence=min(conf, 1.0),
                              box=(x0 + (x1 - x0) * start / total, y0, x0 + (x1 - x0) * (cursor - 1) / total, y1)))
        return words

    def _read_regions(self, image: Image.Image) -> OcrResult:
        if self._detector is None:
            self._detector = TextDetector(self.config)
        grey = np.asarray(ImageOps.grayscale(image))
        words = [w for quad in self._detector.quads(image) for w in self._line(line_crop(grey, quad, self.config), quad)]
        return result(self.name, words, self.config)

    def read(self, image: Image.Image) -> OcrResult:
        if self.preprocess == "text_regions":
            return self._read_regions(image)
        scale, views = ocr_views(image, self.config, self.preprocess)
        passes = [self._words(view, scale) for view in views]
        return result(self.name, merge_passes(passes, self.config.ocr_merge_iou), self.config)


class RapidOcr:
    """PP-OCR (detection + recognition, ONNX) through the rapidocr package; lines split into words."""

    def __init__(self, config: DescribeConfig) -> None:
        from rapidocr import RapidOCR

        self.config = config
        self._engine = RapidOCR(params=rapidocr_params(config))
        self.name = "rapidocr"

    def read(self, image: Image.Image) -> OcrResult:
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        output = self._engine(bgr)
        words: list[Word] = []
        if output.boxes is not None:
            for quad, text, score in zip(output.boxes, output.txts, output.scores):
                quad = np.asarray(quad, dtype=float)
                x0, y0, x1, y1 = quad[:, 0].min(), quad[:, 1].min(), quad[:, 0].max(), quad[:, 1].max()
                words.extend(self._split(text, (x0, y0, x1, y1), float(score)))
        return result(self.name, words, self.config)

    def _split(self, text: str, box: tuple[float, float, float, float], score: float) -> list[Word]:
        """A line's words, each with the share of the line box its characters take."""
        tokens = text.split()
        total = max(len(text), 1)
        width = box[2] - box[0]
        words, cursor = [], 0
        for token in tokens:
            start = text.index(token, cursor)
            cursor = start + len(token)
            if keep_word(token, score, self.config):
                words.append(Word(text=token, confidence=min(max(score, 0.0), 1.0),
                                  box=(box[0] + width * start / total, box[1], box[0] + width * cursor / total, box[3])))
        return words


def build_ocr(config: DescribeConfig, preprocess: str | None = None) -> OcrEngine:
    """The configured engine (``tesseract`` or ``rapidocr``)."""
    if config.ocr_engine == "tesseract":
        return TesseractOcr(config, preprocess)
    if config.ocr_engine == "rapidocr":
        return RapidOcr(config)
    raise ValueError(f"unknown OCR engine {config.ocr_engine!r}")
