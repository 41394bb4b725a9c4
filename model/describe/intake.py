"""Image intake: bytes or a path -> an upright RGB image, or one typed :class:`ImageError`."""

from __future__ import annotations

import hashlib
import io
import logging
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from model.describe.config import DescribeConfig
from model.describe.decoded_size import ALPHA_MODES, HIGH_BIT_MODES, decoded_bytes
from model.describe.errors import ImageError
from model.describe.png_chunks import PNG_SIGNATURE, check_png_chunks
from schemas.description import ImageInfo

log = logging.getLogger(__name__)

# Formats Pillow returns from another format's parser (an MPO file is a JPEG with more frames).
_PARSED_BY = {"MPO": "JPEG"}
# Leading bytes of documents that are not raster images (reported as unsupported, not corrupt).
_KNOWN_NON_IMAGES = {b"%PDF": "PDF", b"<svg": "SVG", b"<?xml": "XML/SVG", b"PK\x03\x04": "ZIP", b"\x00\x00\x00": "ISO media"}


@dataclass(frozen=True)
class LoadedImage:
    """A decoded, upright RGB image and what is known about its source."""

    image: Image.Image
    info: ImageInfo


def _read(source: bytes | Path, config: DescribeConfig) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageError("image_unreadable", f"cannot read {path}: {exc}") from exc
        if size > config.max_image_bytes:
            raise ImageError("image_too_large", f"{path} has {size} bytes; the cap is {config.max_image_bytes}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError("image_unreadable", f"cannot read {path}: {exc}") from exc
    else:
        raise TypeError(f"load_image takes bytes or a Path, not {type(source).__name__}")
    if not data:
        raise ImageError("image_empty", "the image has 0 bytes")
    if len(data) > config.max_image_bytes:
        raise ImageError("image_too_large", f"the image has {len(data)} bytes; the cap is {config.max_image_bytes}")
    return data


def pillow_open() -> Callable[..., Image.Image]:
    """Pillow's own ``Image.open``, unwrapped.

    ultralytics (the optional YOLO detector) replaces ``Image.open`` on import with a wrapper that,
    on an image Pillow cannot identify, tries to pip-install a HEIF plugin and raises
    ``ModuleNotFoundError`` where it cannot: a corrupt upload must stay ``image_corrupt``, and intake
    must never install anything.
    """
    opener = Image.open
    while getattr(opener, "__module__", "PIL.Image") != "PIL.Image":
        original = getattr(sys.modules.get(opener.__module__), "_image_open", None)
        if original is None:
            break
        opener = original
    return opener


def _open(data: bytes, config: DescribeConfig) -> Image.Image:
    """Parse the header only (no pixels decoded yet), with the parsers of ``config.formats`` alone."""
    if data.startswith(PNG_SIGNATURE):
        check_png_chunks(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = pillow_open()(io.BytesIO(data), formats=_parsers(config.formats))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("image_too_many_pixels", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise _unidentified(data, config) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError("image_corrupt", f"damaged image header: {exc}") from exc
    if image.format not in config.formats:
        raise ImageError("image_unsupported_format", f"{image.format} is not one of {', '.join(config.formats)}")
    _check_size(image, config)
    return image


def _parsers(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The Pillow parsers (``Image.open(formats=...)``) that yield ``formats``, in order, once each."""
    return tuple(dict.fromkeys(_PARSED_BY.get(name, name) for name in formats))


def _unidentified(data: bytes, config: DescribeConfig) -> ImageError:
    """Why no configured parser took ``data``: another format's signature, a document, or damage."""
    matches = _signature_formats(data[:16])
    if matches and not set(matches) & set(config.formats):
        return ImageError("image_unsupported_format", f"{matches[0]} is not one of {', '.join(config.formats)}")
    head = data.lstrip()[:5]
    kind = next((kind for magic, kind in _KNOWN_NON_IMAGES.items() if head.startswith(magic)), None)
    if kind is not None and not matches:
        return ImageError("image_unsupported_format", f"a {kind} document is not a raster image")
    return ImageError("image_corrupt", "not a decodable image (unknown or damaged header)")


def _signature_formats(prefix: bytes) -> list[str]:
    """Pillow formats whose signature check accepts ``prefix`` (magic bytes only: nothing is parsed)."""
    Image.init()
    found = []
    for name in Image.ID:
        accept = Image.OPEN[name][1]
        try:
            result = accept(prefix) if accept is not None else False
        except (IndexError, ValueError, TypeError):
            result = False
        if result and not isinstance(result, str):
            found.append(name)
    return found


def _check_size(image: Image.Image, config: DescribeConfig) -> None:
    """The pixel cap and the memory bound, from the header's size and mode."""
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError("image_corrupt", f"the header claims {width}x{height} pixels")
    if width * height > config.max_image_pixels:
        raise ImageError("image_too_many_pixels",
                         f"{width}x{height} = {width * height} pixels; the cap is {config.max_image_pixels}")
    need = decoded_bytes(image.mode, image.size, "transparency" in image.info)
    if need > config.max_image_decoded_bytes:
        raise ImageError("image_decoded_too_large", f"a {width}x{height} {image.mode} image needs about {need} "
                                                    f"bytes decoded; the cap is {config.max_image_decoded_bytes}")


def _decode(image: Image.Image) -> Image.Image:
    """Decode the first frame's pixels; map Pillow's failures to typed errors."""
    try:
        image.seek(0)
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageError("image_too_many_pixels", str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        text = str(exc).lower()
        code = "image_truncated" if "truncat" in text or isinstance(exc, EOFError) else "image_corrupt"
        raise ImageError(code, f"cannot decode the {image.format} pixels: {exc}") from exc
    return image


def to_rgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB; transparency is composed onto ``background``."""
    mode = image.mode
    if mode in HIGH_BIT_MODES:
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") else max(float(values.max()), 1.0)
        values /= top  # in place: one float64 copy at a time (decoded_size counts it)
        values *= 255.0
        grey = np.clip(values, 0, 255, out=values).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if mode in ALPHA_MODES or image.mode == "RGBA":
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, background + (255,))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if mode == "CMYK":
        # Adobe CMYK JPEGs are stored inverted; Pillow's conversion follows the file's own convention.
        return image.convert("RGB")
    return image.convert("RGB")


def load_image(source: bytes | Path, config: DescribeConfig | None = None) -> LoadedImage:
    """Decode ``source`` (bytes or a path) into an upright RGB image. Raises :class:`ImageError`."""
    config = config or DescribeConfig()
    data = _read(source, config)
    image = _decode(_open(data, config))
    fmt = image.format or "unknown"
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError) as exc:  # a broken EXIF block
        log.warning("ignoring unreadable EXIF orientation: %s", exc)
        upright = image
    rgb = to_rgb(upright if upright is not None else image, config.background_rgb)
    info = ImageInfo(width=rgb.width, height=rgb.height, format=fmt, sha256=hashlib.sha256(data).hexdigest())
    return LoadedImage(image=rgb, info=info)
