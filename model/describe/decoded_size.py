"""How much memory an image needs once decoded, estimated from its header (mode and size) alone."""

from __future__ import annotations

# Bytes per pixel Pillow stores for a mode (its Storage.c); modes not listed take 4.
_STORED = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "BGR;15": 2, "BGR;16": 2,
           "BGR;24": 3}
HIGH_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_RGB = 4  # Pillow stores RGB in 4 bytes per pixel


def decoded_bytes(mode: str, size: tuple[int, int], transparency: bool = False) -> int:
    """Peak bytes to decode an image of ``mode`` and ``size`` and convert it to upright 8-bit RGB.

    Counts the decoded pixels, one upright copy (EXIF orientation) and the working copies of
    :func:`model.describe.intake.to_rgb`: high-bit-depth modes pass through a packed copy, a
    float64 array and 8-bit grey; alpha (and palettes with ``transparency``) through three RGBA
    images composed onto the background; everything ends in one RGB image.
    """
    stored = _STORED.get(mode, 4)
    if mode in HIGH_BIT_MODES:
        working = stored + 8 + 1 + 1  # packed bytes, float64 values, uint8 grey, "L" image
    elif mode in ALPHA_MODES or (mode == "P" and transparency):
        working = 3 * 4 + (4 if mode == "P" else 0)  # RGBA copy, canvas, composite (+ the palette's RGBA)
    else:
        working = 0
    return size[0] * size[1] * (2 * stored + working + _RGB)
