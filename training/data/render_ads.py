"""The ad renderer: corpus and ads-mini images from their records, and the OCR test ads.

``python -m training.data.render_ads --out DIR`` renders records. Each image is a deterministic
function of its record: a palette from the category and the overall
sentiment, a simple product shape drawn with Pillow, the slogan (the first sentence of the copy)
set in DejaVu, and for some ads a real photo of a person (scikit-image's astronaut, the people in
ultralytics' ``zidane.jpg`` and ``bus.jpg``). Same record -> byte-identical PNG.

The OCR test ads (:func:`generate_ocr_ads`, for :mod:`training.ocr_eval` and the describe timing)
draw one to three known slogan lines over backgrounds that make ad typography hard: light text on
dark, gradients, busy photos, small print and rotated lines, in the DejaVu families of
:func:`font_dirs`. Deterministic for a seed; no image is committed.
"""

from __future__ import annotations

import argparse
import colorsys
import hashlib
import importlib.util
import logging
import random
import re
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from schemas.dataset import AdRecord

log = logging.getLogger(__name__)

FALLBACK_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: Categories whose ads may show a person, and the share of those ads that do.
PEOPLE_CATEGORIES = frozenset({"cosmetics", "fashion", "fitness", "charity", "insurance", "travel", "telecom",
                               "finance"})
#: Category -> hue in [0, 1) of its palette.
CATEGORY_HUES: dict[str, float] = {
    "cosmetics": 0.92, "food": 0.07, "cars": 0.6, "travel": 0.52, "finance": 0.35, "fashion": 0.8,
    "electronics": 0.66, "charity": 0.0, "insurance": 0.58, "pet care": 0.11, "fitness": 0.28,
    "telecom": 0.72, "home appliances": 0.47, "real estate": 0.15,
}
#: Overall sentiment -> (saturation, value) of the background.
SENTIMENT_TONES: dict[str, tuple[float, float]] = {
    "positive": (0.55, 0.95), "neutral": (0.12, 0.8), "negative": (0.35, 0.3),
}


@dataclass(frozen=True)
class PersonPhoto:
    """A crop of a real photo holding one face (head and shoulders), labelled by what a person sees."""

    source: str  # "astronaut" (scikit-image) or a file of ultralytics' assets/
    crop: tuple[int, int, int, int]
    person: str  # the person word of the describe stage's face sentence
    expression: str  # the expression a person sees
    clear: bool  # the expression is unambiguous (what the face target is measured on)


PERSON_PHOTOS: tuple[PersonPhoto, ...] = (
    PersonPhoto("astronaut", (130, 20, 320, 260), "woman", "happy", True),
    PersonPhoto("zidane.jpg", (840, 30, 1120, 400), "man", "neutral", False),
    PersonPhoto("zidane.jpg", (500, 200, 730, 520), "man", "angry", True),
    PersonPhoto("bus.jpg", (60, 380, 210, 600), "man", "neutral", False),
    PersonPhoto("bus.jpg", (220, 390, 360, 600), "man", "neutral", False),
)


class RenderError(RuntimeError):
    """A resource needed to render (font, photo) is not available."""


@dataclass(frozen=True)
class RenderConfig:
    """Sizes of the rendered ads (pixels unless said otherwise)."""

    width: int = 512
    height: int = 512
    margin: int = 28
    slogan_font_size: int = 34
    brand_font_size: int = 18
    slogan_wrap_chars: int = 22
    slogan_max_lines: int = 3
    slogan_max_chars: int = 60
    person_height: int = 230
    person_share: float = 0.5  # of the ads in PEOPLE_CATEGORIES
    shape_size: int = 170
    # adcorpus layouts draw each size from [base - spread / 2, base + spread / 2), by the ad id
    slogan_size_spread: int = 16
    shape_size_spread: int = 60
    person_height_spread: int = 60
    line_spacing: float = 1.25  # of the font size
    gradient_depth: float = 0.6  # how far a gradient background moves toward the accent colour
    text_box_padding: tuple[int, int] = (8, 4)  # around a slogan line set on a box


def find_font(bold: bool = True) -> Path:
    """The DejaVu Sans file, through fontconfig when it is installed, else the Debian path."""
    style = "DejaVu Sans:style=Bold" if bold else "DejaVu Sans:style=Book"
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", style], capture_output=True, text=True, check=False)
        path = Path(found.stdout.strip())
        if found.returncode == 0 and path.is_file() and "DejaVu" in path.name:
            return path
    path = FALLBACK_FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if not path.is_file():
        raise RenderError(f"DejaVu Sans not found (fc-match and {path}); install Debian's fonts-dejavu-core")
    return path


@lru_cache(maxsize=None)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_font(bold)), size)


@lru_cache(maxsize=None)
def _source_photo(name: str) -> Image.Image:
    if name == "astronaut":
        from skimage import data

        return Image.fromarray(data.astronaut()).convert("RGB")
    spec = importlib.util.find_spec("ultralytics")  # locate the package without importing it
    if spec is None or spec.origin is None:
        raise RenderError("ultralytics is not installed: its assets/ photos are needed for people crops")
    path = Path(spec.origin).parent / "assets" / name
    if not path.is_file():
        raise RenderError(f"photo {path} not found")
    return Image.open(path).convert("RGB")


def digest(ad_id: str) -> bytes:
    """Stable per-ad bytes that drive every choice (never Python's salted hash)."""
    return hashlib.sha256(ad_id.encode("utf-8")).digest()


def palette(category: str | None, sentiment: str | None, seed: bytes) -> dict[str, tuple[int, int, int]]:
    """Background, accent, shape and text colours."""
    hue = CATEGORY_HUES.get(category or "", seed[0] / 256)
    saturation, value = SENTIMENT_TONES.get(sentiment or "neutral", SENTIMENT_TONES["neutral"])
    hue = (hue + (seed[1] - 128) / 4096) % 1.0

    def rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
        return tuple(round(255 * c) for c in colorsys.hsv_to_rgb(h % 1.0, min(s, 1.0), min(v, 1.0)))

    dark = value < 0.5
    return {"background": rgb(hue, saturation, value), "accent": rgb(hue + 0.5, saturation + 0.2, 0.9 if dark else 0.5),
            "shape": rgb(hue + 0.08, saturation + 0.3, value * 0.7 if not dark else 0.75),
            "text": (245, 245, 245) if dark or sentiment == "positive" and value < 0.7 else (25, 25, 30)}


def slogan_of(text: str, config: RenderConfig) -> str:
    """The first sentence of the copy, cut at a word boundary to ``slogan_max_chars``."""
    match = re.match(r"\s*(.+?[.!?:])(?=\s|$)", text)
    first = (match.group(1) if match else text).strip().rstrip(".:")
    return textwrap.shorten(first, config.slogan_max_chars, placeholder="...")


def draw_shape(draw: ImageDraw.ImageDraw, category: str | None, box: tuple[int, int, int, int],
               colour: tuple[int, int, int], accent: tuple[int, int, int]) -> None:
    """A simple product silhouette of the category inside ``box``."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = x0 + w // 2, y0 + h // 2
    if category == "cosmetics":  # bottle with cap
        draw.rounded_rectangle((cx - w // 5, y0 + h // 3, cx + w // 5, y1), radius=w // 10, fill=colour)
        draw.rectangle((cx - w // 12, y0 + h // 8, cx + w // 12, y0 + h // 3), fill=accent)
    elif category == "food":  # plate with a pizza
        draw.ellipse(box, fill=(240, 240, 235))
        draw.ellipse((x0 + w // 8, y0 + h // 8, x1 - w // 8, y1 - h // 8), fill=colour)
        for k in range(5):
            px, py = cx + (k - 2) * w // 8, cy + ((k * 37) % 5 - 2) * h // 10
            draw.ellipse((px - w // 16, py - h // 16, px + w // 16, py + h // 16), fill=accent)
    elif category == "cars":  # body, cabin, wheels
        draw.rounded_rectangle((x0, cy, x1, cy + h // 4), radius=h // 12, fill=colour)
        draw.polygon([(x0 + w // 5, cy), (x0 + w // 3, cy - h // 5), (x1 - w // 3, cy - h // 5), (x1 - w // 6, cy)],
                     fill=colour)
        for wx in (x0 + w // 4, x1 - w // 4):
            draw.ellipse((wx - h // 8, cy + h // 6, wx + h // 8, cy + h // 6 + h // 4), fill=(30, 30, 30))
    elif category == "travel":  # sun over waves
        draw.ellipse((cx - w // 4, y0, cx + w // 4, y0 + w // 2), fill=accent)
        for k in range(3):
            yy = cy + k * h // 8
            draw.arc((x0, yy, cx, yy + h // 6), 180, 360, fill=colour, width=6)
            draw.arc((cx, yy, x1, yy + h // 6), 180, 360, fill=colour, width=6)
    elif category == "finance":  # rising bars
        for k in range(4):
            top = y1 - (k + 1) * h // 4
            draw.rectangle((x0 + k * w // 4 + 4, top, x0 + (k + 1) * w // 4 - 4, y1), fill=colour if k < 3 else accent)
    elif category == "fashion":  # T-shirt
        draw.polygon([(x0, y0 + h // 5), (cx - w // 8, y0), (cx + w // 8, y0), (x1, y0 + h // 5),
                      (x1 - w // 6, y0 + h // 3), (x1 - w // 5, y0 + h // 3), (x1 - w // 5, y1),
                      (x0 + w // 5, y1), (x0 + w // 5, y0 + h // 3), (x0 + w // 6, y0 + h // 3)], fill=colour)
    elif category == "electronics":  # phone
        draw.rounded_rectangle((cx - w // 4, y0, cx + w // 4, y1), radius=w // 12, fill=(25, 25, 30))
        draw.rounded_rectangle((cx - w // 4 + 6, y0 + 12, cx + w // 4 - 6, y1 - 12), radius=w // 16, fill=colour)
    elif category == "charity":  # heart
        draw.ellipse((x0, y0, cx + 4, cy + 4), fill=colour)
        draw.ellipse((cx - 4, y0, x1, cy + 4), fill=colour)
        draw.polygon([(x0 + 3, cy - h // 12), (x1 - 3, cy - h // 12), (cx, y1)], fill=colour)
    elif category == "insurance":  # shield
        draw.polygon([(x0, y0 + h // 8), (cx, y0), (x1, y0 + h // 8), (x1 - w // 8, cy + h // 5), (cx, y1),
                      (x0 + w // 8, cy + h // 5)], fill=colour)
        draw.line([(cx - w // 6, cy), (cx - w // 20, cy + h // 8), (cx + w // 5, cy - h // 8)], fill=accent, width=8)
    elif category == "pet care":  # paw print
        draw.ellipse((cx - w // 4, cy - h // 12, cx + w // 4, y1 - h // 8), fill=colour)
        for k, (dx, dy) in enumerate(((-0.38, -0.1), (-0.15, -0.35), (0.15, -0.35), (0.38, -0.1))):
            px, py = cx + int(dx * w), cy + int(dy * h)
            draw.ellipse((px - w // 10, py - h // 10, px + w // 10, py + h // 10), fill=colour)
    elif category == "fitness":  # dumbbell
        draw.rectangle((x0 + w // 5, cy - h // 24, x1 - w // 5, cy + h // 24), fill=(60, 60, 60))
        for px in (x0, x1 - w // 5):
            draw.rounded_rectangle((px, cy - h // 4, px + w // 5, cy + h // 4), radius=8, fill=colour)
    elif category == "telecom":  # signal bars
        for k in range(5):
            top = y1 - (k + 1) * h // 5
            draw.rounded_rectangle((x0 + k * w // 5 + 5, top, x0 + (k + 1) * w // 5 - 5, y1), radius=4,
                                   fill=colour if k < 4 else accent)
    elif category == "home appliances":  # washing machine
        draw.rounded_rectangle((x0 + w // 8, y0, x1 - w // 8, y1), radius=12, fill=(235, 235, 235))
        draw.ellipse((cx - w // 4, cy - h // 6, cx + w // 4, cy + h // 3), fill=colour, outline=(90, 90, 90), width=6)
    elif category == "real estate":  # house
        draw.polygon([(x0, cy), (cx, y0), (x1, cy)], fill=accent)
        draw.rectangle((x0 + w // 8, cy, x1 - w // 8, y1), fill=colour)
        draw.rectangle((cx - w // 12, y1 - h // 4, cx + w // 12, y1), fill=(70, 50, 40))
    else:  # unknown category: a plain product box
        draw.rounded_rectangle(box, radius=w // 8, fill=colour)


def person_crop(seed: bytes, height: int) -> Image.Image:
    """A real photo of a person (head and shoulders), scaled to ``height``."""
    photo = PERSON_PHOTOS[seed[3] % len(PERSON_PHOTOS)]
    image = _source_photo(photo.source).crop(photo.crop)
    width = round(image.width * height / image.height)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def render_ad(record: AdRecord, config: RenderConfig = RenderConfig()) -> Image.Image:
    """The ad image of one record (deterministic): an adcorpus layout when the record carries its
    slogan (``generated.ocr``), else the ads-mini layout."""
    if record.generated is not None and record.generated.ocr:
        return render_corpus_ad(record, config)
    seed = digest(record.ad_id)
    colours = palette(record.category, record.overall, seed)
    image = Image.new("RGB", (config.width, config.height), colours["background"])
    draw = ImageDraw.Draw(image)
    # a soft band of the accent colour behind the product
    band_top = config.height // 2 - config.height // 10 + seed[2] % 40
    draw.rectangle((0, band_top, config.width, band_top + config.height // 5),
                   fill=tuple((a + b) // 2 for a, b in zip(colours["accent"], colours["background"])))
    with_person = (record.category in PEOPLE_CATEGORIES and seed[4] / 256 < config.person_share)
    shape_left = config.width - config.margin - config.shape_size if with_person else \
        (config.width - config.shape_size) // 2
    shape_top = config.height - config.margin - config.shape_size - config.brand_font_size
    draw_shape(draw, record.category, (shape_left, shape_top, shape_left + config.shape_size,
                                       shape_top + config.shape_size), colours["shape"], colours["accent"])
    if with_person:
        person = person_crop(seed, config.person_height)
        image.paste(person, (config.margin, config.height - config.margin - person.height))
    lines = textwrap.wrap(slogan_of(record.text, config), config.slogan_wrap_chars)[:config.slogan_max_lines]
    font = _font(config.slogan_font_size, True)
    y = config.margin
    for line in lines:
        draw.text((config.margin, y), line, font=font, fill=colours["text"])
        y += round(config.slogan_font_size * 1.2)
    brand = brand_of(record)
    draw.text((config.width - config.margin, config.height - config.margin // 2), brand,
              font=_font(config.brand_font_size, False), fill=colours["text"], anchor="rs")
    return image


def spread(base: int, width: int, byte: int) -> int:
    """A size in ``[base - width // 2, base - width // 2 + width)`` chosen by one byte of the ad's digest."""
    return base - width // 2 + byte % width


def image_mood(record: AdRecord) -> str | None:
    """The mood an adcorpus image is drawn in: the sentiment of its caption label (the builder
    chooses it, fitting the ad's overall sentiment only part of the time), else the overall label."""
    return next((a.sentiment for a in record.aspects if a.segment == "caption"), record.overall)


def matplotlib_font_dir() -> Path | None:
    """matplotlib's bundled TrueType folder (DejaVu and STIX), when matplotlib is installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return folder if folder.is_dir() else None


def font_dirs() -> list[Path]:
    """Folders that may hold DejaVu fonts: Debian's, then matplotlib's copy."""
    return [d for d in (FALLBACK_FONT_DIR, matplotlib_font_dir()) if d is not None and d.is_dir()]


def fonts_named(names: tuple[str, ...], folders: list[Path]) -> tuple[Path, ...]:
    """The files called ``names`` (in that order; the first folder holding one wins)."""
    found = {}
    for folder in folders:
        for name in names:
            if name not in found and (folder / name).is_file():
                found[name] = folder / name
    return tuple(found[name] for name in names if name in found)


def corpus_fonts() -> tuple[Path, ...]:
    """Bold and regular faces in several families (DejaVu and STIX, shipped with matplotlib; the same
    files on every machine, so a record renders to the same image)."""
    names = ("DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSans-BoldOblique.ttf",
             "DejaVuSerif-BoldItalic.ttf", "STIXGeneralBol.ttf", "DejaVuSans.ttf", "DejaVuSerif.ttf")
    folder = matplotlib_font_dir()
    return fonts_named(names, [folder] if folder else []) or (find_font(True),)


@lru_cache(maxsize=None)
def _font_file(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _contrasting(background: tuple[int, int, int], seed: int) -> tuple[int, int, int]:
    """A text colour that stands out from ``background``: light on dark, dark on light, tinted."""
    light = sum(background) / 3 > 140
    hue = seed / 256
    value = 0.18 if light else 0.97
    return tuple(round(255 * c) for c in colorsys.hsv_to_rgb(hue, 0.35 if seed % 3 else 0.0, value))


def render_corpus_ad(record: AdRecord, config: RenderConfig = RenderConfig()) -> Image.Image:
    """An adcorpus image: the slogan in one of several fonts, sizes, colours and placements over a
    plain, gradient or banded background, a product shape and, when the record labels a real
    face (not a template), the person photo ``PERSON_PHOTOS[seed[3]]``."""
    seed = digest(record.ad_id)
    colours = palette(record.category, image_mood(record), seed)
    image = Image.new("RGB", (config.width, config.height), colours["background"])
    draw = ImageDraw.Draw(image)
    style = seed[5] % 3
    if style == 1:  # vertical gradient into the accent colour
        for y in range(config.height):
            t = config.gradient_depth * y / config.height
            draw.line([(0, y), (config.width, y)],
                      fill=tuple(round(a * (1 - t) + b * t) for a, b in zip(colours["background"], colours["accent"])))
    elif style == 2:  # a band behind the product
        top = config.height // 2 + seed[2] % 60
        draw.rectangle((0, top, config.width, top + config.height // 4), fill=colours["accent"])
    photo = any(a.segment == "face" for a in record.aspects) and "face" not in record.template_segments
    size = spread(config.shape_size, config.shape_size_spread, seed[6])
    left = config.width - config.margin - size if photo else \
        config.margin + seed[7] % (config.width - size - 2 * config.margin)
    top = config.height - config.margin - size
    draw_shape(draw, None, (left, top, left + size, top + size), colours["shape"], colours["accent"])
    if photo:
        person = person_crop(seed, spread(config.person_height - 10, config.person_height_spread, seed[8]))
        if seed[17] % 2:
            person = person.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        image.paste(person, (config.margin, config.height - config.margin - person.height))
    fonts = corpus_fonts()
    font = _font_file(str(fonts[seed[18] % len(fonts)]),
                      spread(config.slogan_font_size, config.slogan_size_spread, seed[19]))
    wrap = max(10, round(config.slogan_wrap_chars * config.slogan_font_size / font.size))
    lines = textwrap.wrap(record.generated.ocr, wrap)[:config.slogan_max_lines]
    line_height = round(font.size * config.line_spacing)
    block = line_height * len(lines)
    y = (config.margin, config.height // 3 - block // 2, config.margin + 10)[seed[20] % 3]
    boxed = seed[21] % 4 == 0
    fill = _contrasting(colours["background"], seed[22])
    for line in lines:
        width = draw.textlength(line, font=font)
        x = config.margin if seed[23] % 2 else round((config.width - width) / 2)
        if boxed:
            pad_x, pad_y = config.text_box_padding
            draw.rectangle((x - pad_x, y - pad_y, x + width + pad_x, y + line_height), fill=colours["shape"])
        draw.text((x, y), line, font=font,
                  fill=_contrasting(colours["shape"], seed[22]) if boxed else fill)
        y += line_height
    return image


def brand_of(record: AdRecord) -> str:
    """The ads-mini brand named in the copy, else the category, for the corner label."""
    from training.data.ads_mini.phrases import CATEGORIES

    for brand in CATEGORIES.get(record.category or "", {}).get("brands", []):
        if brand in record.text:
            return brand
    return (record.category or "").upper()


def save_png(image: Image.Image, path: Path) -> None:
    """PNG without metadata and with fixed compression, so the bytes depend on the pixels only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=False, compress_level=6)


def render_all(records: list[AdRecord], out: Path, config: RenderConfig = RenderConfig()) -> list[Path]:
    """Render every record to ``out / record.image`` (or ``images/<ad_id>.png``)."""
    written = []
    for record in tqdm(records, desc="render ads", unit="ad"):
        relative = record.image if record.image and "://" not in record.image else f"images/{record.ad_id}.png"
        path = out / relative
        save_png(render_ad(record, config), path)
        written.append(path)
    return written


# --- OCR test ads: known slogans over hard backgrounds ---------------------------------------
OCR_KINDS = ("dark_on_light", "light_on_dark", "gradient", "photo", "small_print", "rotated")

OCR_HEADLINES = (
    "SUMMER SALE", "Fresh Taste Every Day", "BIG DEALS TODAY", "Feel The Power", "New Collection",
    "Drive Happy", "Pure Comfort", "LIMITED OFFER", "Taste The Difference", "Smart Living",
    "Winter Clearance", "Made For Adventure", "Bold Flavour", "Sleep Better Tonight", "GRAND OPENING",
    "Love Your Skin", "Fast Free Delivery", "Simply Delicious", "Explore More", "Best Price Guaranteed",
)
OCR_SUBLINES = (
    "Up to 50% off all shoes", "Order now and save", "Only this weekend", "Visit our store today",
    "Healthy breakfast for the family", "Free shipping on every order", "Join thousands of happy customers",
    "Try it for thirty days", "Available in six colours", "Book your table tonight",
)
OCR_SMALL_PRINT = (
    "Terms and conditions apply", "Offer valid while stocks last", "See website for details",
    "Prices include tax", "Not valid with other offers",
)
OCR_FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif-Italic.ttf",
)
OCR_SIZES = ((640, 640), (800, 450), (480, 640), (600, 600))


@dataclass(frozen=True)
class OcrTestAd:
    image: Image.Image
    lines: tuple[str, ...]
    kind: str

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def ocr_fonts() -> list[Path]:
    """The DejaVu families of ``OCR_FONT_FILES`` found on this machine."""
    found = fonts_named(OCR_FONT_FILES, font_dirs())
    if not found:
        raise FileNotFoundError("no DejaVu fonts found (install fonts-dejavu-core or matplotlib)")
    return list(found)


def _ocr_photos() -> list[np.ndarray]:
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


def _ocr_background(kind: str, size: tuple[int, int], rng: random.Random, photos: list[np.ndarray]) -> tuple[Image.Image, bool]:
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


def _draw_ocr_line(canvas: Image.Image, text: str, font: ImageFont.FreeTypeFont, xy: tuple[int, int],
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


def make_ocr_ad(index: int, seed: int = 0) -> OcrTestAd:
    """The ``index``-th synthetic ad of the set for ``seed``."""
    rng = random.Random(seed * 100_003 + index)
    kind = OCR_KINDS[index % len(OCR_KINDS)]
    size = OCR_SIZES[rng.randrange(len(OCR_SIZES))]
    photos = _ocr_photos() if kind == "photo" else []
    canvas, light = _ocr_background(kind, size, rng, photos)
    fonts = ocr_fonts()
    lines = [rng.choice(OCR_HEADLINES)]
    if rng.random() < 0.7:
        lines.append(rng.choice(OCR_SUBLINES))
    if kind == "small_print" or rng.random() < 0.2:
        lines.append(rng.choice(OCR_SMALL_PRINT))
    width, height = size
    y = int(height * rng.uniform(0.08, 0.2))
    drawn: list[str] = []
    for number, line in enumerate(lines):
        is_small = line in OCR_SMALL_PRINT
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
        _draw_ocr_line(canvas, line, font, (x, y), fill, stroke, angle)
        drawn.append(line)
        y += int(target * rng.uniform(1.5, 2.4) + abs(angle) * text_width / 60)
    return OcrTestAd(image=canvas, lines=tuple(drawn), kind=kind)


def generate_ocr_ads(count: int, seed: int = 0) -> Iterator[OcrTestAd]:
    """``count`` ads cycling through every kind of background."""
    for index in range(count):
        yield make_ocr_ad(index, seed)


def main(argv: list[str] | None = None) -> None:
    from training.data.ads_mini import ADS_MINI_DIR, SPLITS
    from training.data.jsonl import read_records

    parser = argparse.ArgumentParser(description="Render the ads-mini images (deterministic PNGs) into --out; "
                                                 "pass --out as images_dir when loading the JSONL files.")
    parser.add_argument("--out", type=Path, required=True, help="directory that receives images/<ad_id>.png")
    parser.add_argument("--data", type=Path, default=ADS_MINI_DIR, help="directory of {train,dev,test}.jsonl")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), help="splits to render")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = [record for split in args.splits for record in read_records(args.data / f"{split}.jsonl")]
    started = time.perf_counter()
    written = render_all(records, args.out)
    log.info("rendered %d ads into %s in %.1f s", len(written), args.out, time.perf_counter() - started)


if __name__ == "__main__":
    main()
