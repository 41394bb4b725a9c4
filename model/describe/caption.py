"""The global level Z (Eq. 1): a pluggable captioner.

:class:`TransformersCaptioner` loads any transformers image-to-text model by name or path (BLIP,
GIT, a ViT-GPT2 ...). :class:`OfflineCaptioner`, the default, composes a description from what the
offline models saw: named colours and tone, layout of faces and text, ImageNet labels and faces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from model.describe.colors import palette
from model.describe.config import DescribeConfig
from schemas.description import Face, OcrResult


@dataclass(frozen=True)
class Seen:
    """What the other steps found in one image, for captioners that use it."""

    faces: tuple[Face, ...]
    ocr: OcrResult
    labels: tuple[tuple[str, float], ...]  # ImageNet labels, best first


class Captioner(Protocol):
    name: str

    def caption(self, images: list[Image.Image], seen: list[Seen]) -> list[str]:
        """One caption per image."""
        ...


def position(box: tuple[float, float, float, float], width: int, height: int) -> str:
    """Where a box's centre sits, in words ('top left', 'centre', ...)."""
    cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
    row = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    col = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
    if row == "middle" and col == "centre":
        return "centre"
    return f"{row} {col}" if row != "middle" else f"middle {col}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def text_share(ocr: OcrResult, width: int, height: int) -> float:
    area = sum((l.box[2] - l.box[0]) * (l.box[3] - l.box[1]) for l in ocr.lines)
    return min(1.0, area / float(width * height))


class OfflineCaptioner:
    """A real description from offline detectors: colour and tone, objects, faces and text layout."""

    name = "offline"

    def __init__(self, config: DescribeConfig) -> None:
        self.config = config

    def _tone(self, image: Image.Image) -> str:
        c, p = self.config, palette(image, self.config)
        words = ["dark" if p.brightness < c.dark_below else "bright" if p.brightness > c.bright_above else "mid-toned"]
        words.append("muted" if p.saturation < c.muted_below else "vivid" if p.saturation > c.vivid_above else "")
        words.append("warm" if p.warmth > 0.2 else "cool" if p.warmth < -0.2 else "")
        tone = ", ".join(w for w in words if w)
        colors = _join([name for name, _ in p.colors]) if p.colors else "mixed colours"
        return f"a {tone} image in {colors}"

    def one(self, image: Image.Image, seen: Seen) -> str:
        parts = [self._tone(image)]
        if seen.labels:
            parts.append("showing " + _join([label for label, _ in seen.labels]))
        first = " ".join(parts)
        sentences = [first[:1].upper() + first[1:] + "."]
        if seen.faces:
            who = {"female": "a woman", "male": "a man"}
            where = [f"{who.get(f.gender, 'a person')} at the {position(f.box, image.width, image.height)}"
                     for f in seen.faces]
            count = "one face" if len(seen.faces) == 1 else f"{len(seen.faces)} faces"
            sentences.append(f"It has {count}: {_join(where)}.")
        else:
            sentences.append("No face is visible.")
        if seen.ocr.lines:
            share = text_share(seen.ocr, image.width, image.height)
            places = sorted({position(l.box, image.width, image.height) for l in seen.ocr.lines})
            sentences.append(f"Text covers {round(100 * share)}% of the image, at the {_join(places)}.")
        else:
            sentences.append("It has no text.")
        return " ".join(sentences)

    def caption(self, images: list[Image.Image], seen: list[Seen]) -> list[str]:
        return [self.one(image, s) for image, s in zip(images, seen)]


class TransformersCaptioner:
    """Any transformers image-to-text model, by hub name or local path (greedy decoding: deterministic)."""

    def __init__(self, config: DescribeConfig, name_or_path: str) -> None:
        import torch
        import transformers
        from transformers import AutoImageProcessor, AutoTokenizer

        self.config = config
        self.name = f"transformers:{name_or_path}"
        self._torch = torch
        auto = getattr(transformers, "AutoModelForImageTextToText", None)
        try:
            self._model = auto.from_pretrained(name_or_path)  # type: ignore[union-attr]
        except (ValueError, AttributeError):
            self._model = transformers.VisionEncoderDecoderModel.from_pretrained(name_or_path)
        self._model.eval().to(config.device)
        self._processor = AutoImageProcessor.from_pretrained(name_or_path)
        self._tokenizer = AutoTokenizer.from_pretrained(name_or_path)

    def caption(self, images: list[Image.Image], seen: list[Seen]) -> list[str]:
        torch = self._torch
        pixels = self._processor(images=images, return_tensors="pt")["pixel_values"].to(self.config.device)
        with torch.no_grad():
            ids = self._model.generate(pixel_values=pixels, max_new_tokens=self.config.caption_max_new_tokens,
                                       do_sample=False, num_beams=1)
        return [t.strip() for t in self._tokenizer.batch_decode(ids, skip_special_tokens=True)]


def build_captioner(config: DescribeConfig) -> Captioner:
    if config.captioner:
        return TransformersCaptioner(config, config.captioner)
    return OfflineCaptioner(config)
