"""Dominant named colours, warmth, brightness and saturation of an image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from model.describe.config import DescribeConfig

WARM = frozenset({"red", "orange", "yellow", "pink", "brown"})
COOL = frozenset({"green", "teal", "blue", "purple"})
# Hue bins (degrees, upper bound exclusive) of saturated colours.
HUE_NAMES = ((15, "red"), (40, "orange"), (70, "yellow"), (165, "green"), (195, "teal"), (255, "blue"),
             (290, "purple"), (345, "pink"), (361, "red"))


@dataclass(frozen=True)
class Palette:
    colors: tuple[tuple[str, float], ...]  # (name, share of pixels), largest first
    brightness: float  # mean value 0..1
    saturation: float  # mean saturation 0..1
    warmth: float  # share of warm minus share of cool pixels, -1..1


def _names(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0] * 360.0, hsv[..., 1], hsv[..., 2]
    names = np.empty(h.shape, dtype=object)
    hue_name = np.full(h.shape, "red", dtype=object)
    lower = 0.0
    for upper, name in HUE_NAMES:
        hue_name[(h >= lower) & (h < upper)] = name
        lower = upper
    names[:] = hue_name
    names[(hue_name == "orange") & (v < 0.6)] = "brown"
    names[s < 0.18] = "grey"
    names[(s < 0.18) & (v > 0.85)] = "white"
    names[v < 0.18] = "black"
    return names


def colour_name(rgb: tuple[int, int, int]) -> str:
    """The name this module gives one colour (red, teal, grey, ...)."""
    hsv = np.asarray(Image.new("RGB", (1, 1), rgb).convert("HSV"), dtype=np.float32) / 255.0
    return str(_names(hsv)[0, 0])


def palette(image: Image.Image, config: DescribeConfig) -> Palette:
    small = image.resize((config.color_sample_side, config.color_sample_side), Image.BILINEAR).convert("HSV")
    hsv = np.asarray(small, dtype=np.float32) / 255.0
    names = _names(hsv).ravel()
    values, counts = np.unique(names, return_counts=True)
    shares = sorted(((str(n), c / names.size) for n, c in zip(values, counts)), key=lambda t: -t[1])
    top = tuple((n, round(float(s), 3)) for n, s in shares if s >= config.color_min_share)[: config.n_colors]
    warm = float(np.isin(names, list(WARM)).mean())
    cool = float(np.isin(names, list(COOL)).mean())
    return Palette(colors=top, brightness=float(hsv[..., 2].mean()), saturation=float(hsv[..., 1].mean()),
                   warmth=warm - cool)
