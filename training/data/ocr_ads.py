"""Ad-like images with known slogans, for measuring OCR (no image is committed; all are generated).

The OCR test set of :mod:`training.ocr_eval` and the describe timing; the corpus ads themselves
are drawn by :mod:`training.data.render_ads`, whose font lookup this uses.

Each ad draws one to three slogan lines over one of several backgrounds that make ad typography
hard: light text on dark, text on gradients, busy photos, small print and rotated lines. Fonts are
the DejaVu families Debian (``fonts-dejavu-core``) or matplotlib ship. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from training.data.render_ads import font_dirs, fonts_named

KINDS = ("dark_on_light", "light_on_dark", "gradient", "photo", "small_print", "rotated")

HEADLINES = (
    "SUMMER SALE", "Fresh Taste Every Day", "BIG DEALS TODAY", "Feel The Power", "New Collection",
    "Drive Happy", "Pure Comfort", "LIMITED OFFER", "Taste The Difference", "Smart Living",
    "Winter Clearance", "Made For Adventure", "Bold Flavour", "Sleep Better Tonight", "GRAND OPENING",
    "Love Your Skin", "Fast Free Delivery", "Simply Delicious", "Explore More", "Best Price Guaranteed",
)
SUBLINES = (
    "Up to 50% off all shoes", "Order now and save", "Only this weekend", "Visit our store today",
    "Healthy breakfast for the family", "Free shipping on every order", "Join thousands of happy customers",
    "Try it for thirty days", "Available in six colours", "Book your table tonight",
)
SMALL_PRINT = (
    "Terms and conditions apply", "Offer valid while stocks last", "See website for details",
    "Prices include tax", "Not valid with other offers",
)
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif-Italic.ttf",
)
SIZES = ((640, 640), (800, 450), (480, 640), (600, 600))


@dataclass(frozen=True)
class SyntheticAd:
    image: Image.Image
    lines: tuple[str, ...]
    kind: str

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def available_fonts() -> list[Path]:
    """The DejaVu families of ``FONT_FILES`` found on this machine."""
    found = fonts_named(FONT_FILES, font_dirs())
    if not found:
        raise FileNotFoundError("no DejaVu fonts found (install fonts-dejavu-core or matplotlib)")
    return list(found)


def _photos() -> list[np.ndarray]:
    from skimage import data

    return [data.coffee(), data.chelsea(), data.astronaut(), data.rocket()]


def _luminance(rgb: tuple[int, int, int]) -> float:
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0


def _random_colour(rng: random.Random, light: bool) -> tuple[int, int, int]:
    while True:
        colour = tuple(rng.randrange(256) for _ in range(3))
        lum = _luminance(colour)  # type: ignore[arg-type]
        if (light and lum > 0.7) or (not light and lum < 0.3):
            return colour  # type: ignore[return-value]


def _background(kind: str, size: tuple[int, int], rng: random.Random, photos: list[np.ndarray]) -> tuple[Image.Image, bool]:
    """The background and whether text on it should be light."""
    width, height = size
    if kind == "light_on_dark":
        return Image.new("RGB", size, _random_colour(rng, light=False)), True
    if kind == "gradient":
        light_text = rng.random() < 0.5
        top, bottom = _random_colour(rng, not light_text), _random_colour(rng, not light_text)
        ramp = np.linspace(0.0, 1.0, height)[:, None, None]
        pixels = (1 - ramp) * np.array(top) + ramp * np.array(bottom)
        return Image.fromarray(np.broadcast_to(pixels, (height, width, 3)).astype(np.uint8)), light_text
    if kind == "photo":
        photo = Image.fromarray(rng.choice(photos)).resize(size)
        return photo, rng.random() < 0.5
    return Image.new("RGB", size, _random_colour(rng, light=True)), False


def _draw_line(canvas: Image.Image, text: str, font: ImageFont.FreeTypeFont, xy: tuple[int, int],
               fill: tuple[int, int, int], stroke: tuple[int, int, int] | None, angle: float) -> None:
    pad = font.size
    left, top, right, bottom = font.getbbox(text, stroke_width=2 if stroke else 0)
    layer = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.text((pad - left, pad - top), text, font=font, fill=fill + (255,),
              stroke_width=2 if stroke else 0, stroke_fill=(stroke + (255,)) if stroke else None)
    if angle:
        layer = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
    canvas.paste(layer, (xy[0] - pad, xy[1] - pad), layer)


def make_ad(index: int, seed: int = 0) -> SyntheticAd:
    """The ``index``-th synthetic ad of the set for ``seed``."""
    rng = random.Random(seed * 100_003 + index)
    kind = KINDS[index % len(KINDS)]
    size = SIZES[rng.randrange(len(SIZES))]
    photos = _photos() if kind == "photo" else []
    canvas, light = _background(kind, size, rng, photos)
    fonts = available_fonts()
    lines = [rng.choice(HEADLINES)]
    if rng.random() < 0.7:
        lines.append(rng.choice(SUBLINES))
    if kind == "small_print" or rng.random() < 0.2:
        lines.append(rng.choice(SMALL_PRINT))
    width, height = size
    y = int(height * rng.uniform(0.08, 0.2))
    drawn: list[str] = []
    for number, line in enumerate(lines):
        is_small = line in SMALL_PRINT
        target = rng.randint(14, 18) if is_small else (rng.randint(40, 72) if number == 0 else rng.randint(22, 36))
        font = ImageFont.truetype(str(rng.choice(fonts)), target)
        while font.getlength(line) > width * 0.9 and target > 12:  # fit the width
            target -= 2
            font = ImageFont.truetype(font.path, target)
        text_width = int(font.getlength(line))
        x = rng.randint(int(width * 0.04), max(int(width * 0.04), width - text_width - int(width * 0.04)))
        fill = _random_colour(rng, light)
        stroke = (_random_colour(rng, not light) if kind == "photo" else None)
        angle = rng.uniform(-8, 8) if kind == "rotated" else 0.0
        if y + target * 1.4 > height:
            break
        _draw_line(canvas, line, font, (x, y), fill, stroke, angle)
        drawn.append(line)
        y += int(target * rng.uniform(1.5, 2.4) + abs(angle) * text_width / 60)
    return SyntheticAd(image=canvas, lines=tuple(drawn), kind=kind)


def generate(count: int, seed: int = 0) -> Iterator[SyntheticAd]:
    """``count`` ads cycling through every kind of background."""
    for index in range(count):
        yield make_ad(index, seed)
