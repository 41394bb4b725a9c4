"""Image intake: every format decodes to upright RGB; every kind of bad input gets its typed error."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.describe import DescribeConfig, ImageError, load_image


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def gradient(mode: str = "RGB", size: tuple[int, int] = (40, 30)) -> Image.Image:
    x = np.linspace(0, 255, size[0], dtype=np.uint8)[None, :].repeat(size[1], 0)
    return Image.fromarray(np.stack([x, x[::-1], np.full_like(x, 90)], -1)).convert(mode)


WITH_TIFF = DescribeConfig(formats=DescribeConfig().formats + ("TIFF",))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_formats_decode_to_rgb(fmt: str) -> None:
    loaded = load_image(encode(gradient(), fmt), WITH_TIFF)
    assert loaded.image.mode == "RGB" and loaded.image.size == (40, 30)
    assert loaded.info.format == fmt and len(loaded.info.sha256) == 64


def test_gif_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    pixel = load_image(buffer.getvalue()).image.getpixel((4, 4))
    assert pixel[0] > 200 and pixel[2] < 50


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    loaded = load_image(encode(image, "JPEG", exif=exif.tobytes()))
    assert loaded.image.size == (20, 40)


@pytest.mark.parametrize("mode", ["CMYK", "P", "L", "LA", "RGBA", "I;16"])
def test_modes_convert_to_rgb(mode: str) -> None:
    fmt = {"CMYK": "JPEG", "I;16": "PNG"}.get(mode, "PNG")
    if mode == "I;16":
        source = Image.fromarray((np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50))
    else:
        source = gradient(mode)
    loaded = load_image(encode(source, fmt))
    assert loaded.image.mode == "RGB" and loaded.image.size == (40, 30)
    assert np.asarray(loaded.image).std() > 0


def test_transparent_pixels_become_background() -> None:
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert load_image(encode(clear, "PNG")).image.getpixel((1, 1)) == (255, 255, 255)


def test_path_input(tmp_path: Path) -> None:
    path = tmp_path / "ad.png"
    gradient().save(path)
    assert load_image(path).image.size == (40, 30)


def png_header_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\x00" * 100)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk


@pytest.mark.parametrize("data, code", [
    (b"", "image_empty"),
    (b"\xff\xd8\xff\xe0 this is not really a jpeg", "image_corrupt"),
    (b"random bytes that are no image at all", "image_corrupt"),
    (b"%PDF-1.7\n1 0 obj << >> endobj\n", "image_unsupported_format"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', "image_unsupported_format"),
    (png_header_claiming(50_000, 50_000), "image_too_many_pixels"),
])
def test_bad_input_raises_typed_error(data: bytes, code: str) -> None:
    with pytest.raises(ImageError) as info:
        load_image(data)
    assert info.value.code == code


def test_truncated_image() -> None:
    data = encode(gradient(size=(200, 200)), "JPEG")
    with pytest.raises(ImageError) as info:
        load_image(data[: len(data) // 2])
    assert info.value.code == "image_truncated"


def test_truncated_png() -> None:
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (100, 100, 3), dtype=np.uint8)), "PNG")
    with pytest.raises(ImageError) as info:
        load_image(data[: len(data) // 2])
    assert info.value.code in ("image_truncated", "image_corrupt")


def test_oversized_bytes(tmp_path: Path) -> None:
    config = DescribeConfig(max_image_bytes=100)
    data = encode(gradient(), "BMP")
    with pytest.raises(ImageError) as info:
        load_image(data, config)
    assert info.value.code == "image_too_large"
    path = tmp_path / "big.bmp"
    path.write_bytes(data)
    with pytest.raises(ImageError) as info:
        load_image(path, config)
    assert info.value.code == "image_too_large"


def test_pixel_cap_is_checked_before_decoding() -> None:
    with pytest.raises(ImageError) as info:
        load_image(encode(gradient(), "PNG"), DescribeConfig(max_image_pixels=100))
    assert info.value.code == "image_too_many_pixels"


def test_unsupported_raster_format() -> None:
    with pytest.raises(ImageError) as info:
        load_image(encode(gradient(), "ICO"))
    assert info.value.code == "image_unsupported_format"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        load_image(tmp_path / "nope.png")
    assert info.value.code == "image_unreadable"


def test_tiff_is_refused_unless_configured() -> None:
    data = encode(gradient(), "TIFF")
    with pytest.raises(ImageError) as info:
        load_image(data)
    assert info.value.code == "image_unsupported_format" and "TIFF" in info.value.message
    assert load_image(data, WITH_TIFF).info.format == "TIFF"


def test_only_the_configured_parsers_run(monkeypatch: pytest.MonkeyPatch) -> None:
    Image.init()
    factory, accept = Image.OPEN["TIFF"]
    called: list[str] = []
    monkeypatch.setitem(Image.OPEN, "TIFF", (lambda *a: called.append("TIFF") or factory(*a), accept))
    asked: list[object] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda fp, *a, **k: asked.append(k.get("formats")) or real_open(fp, *a, **k))
    with pytest.raises(ImageError) as info:
        load_image(encode(gradient(), "TIFF"))
    assert info.value.code == "image_unsupported_format"
    assert called == [] and asked == [("JPEG", "PNG", "WEBP", "GIF", "BMP")]  # MPO comes from the JPEG parser


def chunk_at(data: bytes, kind: bytes) -> tuple[int, int]:
    """Offset and data length of the first ``kind`` chunk of a PNG."""
    offset = 8
    while True:
        length, name = struct.unpack_from(">I4s", data, offset)
        if name == kind:
            return offset, length
        offset += 12 + length


@pytest.mark.parametrize("kind", [b"IDAT", b"IEND"])
def test_png_chunk_with_a_broken_crc_is_corrupt(kind: bytes) -> None:
    data = bytearray(encode(gradient(), "PNG"))
    offset, length = chunk_at(bytes(data), kind)
    data[offset + 8 + length] ^= 0xFF  # the CRC only: Pillow would decode these pixels without a word
    with pytest.raises(ImageError) as info:
        load_image(bytes(data))
    assert info.value.code == "image_corrupt" and kind.decode() in info.value.message


def test_png_chunk_cut_short_is_truncated() -> None:
    data = encode(gradient(), "PNG")
    offset, length = chunk_at(data, b"IDAT")
    with pytest.raises(ImageError) as info:
        load_image(data[: offset + 8 + length // 2])
    assert info.value.code == "image_truncated"


def png_header(width: int, height: int, bit_depth: int, color_type: int) -> bytes:
    """A valid PNG signature and IHDR, then one tiny IDAT: decoding it would fail, reading the header does not."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\x00" * 100))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + pixels + chunk(b"IEND", b"")


@pytest.mark.parametrize("bit_depth, color_type, mode", [(16, 0, "I;16"), (8, 6, "RGBA"), (16, 6, "RGBA")])
def test_decoded_memory_bound_is_checked_before_decoding(bit_depth: int, color_type: int, mode: str) -> None:
    data = png_header(6000, 6000, bit_depth, color_type)  # 36 M pixels: under the pixel cap
    assert Image.open(io.BytesIO(data)).mode == mode
    with pytest.raises(ImageError) as info:
        load_image(data)
    assert info.value.code == "image_decoded_too_large" and mode in info.value.message


def test_16_bit_needs_more_memory_than_8_bit() -> None:
    """At the same size, an 8-bit RGB image passes a bound that its 16-bit grey twin exceeds."""
    from model.describe.decoded_size import decoded_bytes

    rgb, grey16 = decoded_bytes("RGB", (300, 200)), decoded_bytes("I;16", (300, 200))
    assert rgb < grey16
    config = DescribeConfig(max_image_decoded_bytes=(rgb + grey16) // 2)
    assert load_image(encode(gradient(size=(300, 200)), "PNG"), config).image.size == (300, 200)
    sixteen = Image.fromarray(np.arange(300 * 200, dtype=np.uint16).reshape(200, 300))
    with pytest.raises(ImageError) as info:
        load_image(encode(sixteen, "PNG"), config)
    assert info.value.code == "image_decoded_too_large"


def test_sixteen_bit_grey_keeps_its_values() -> None:
    ramp = Image.fromarray((np.arange(256, dtype=np.uint16) * 257).reshape(16, 16))
    grey = np.asarray(load_image(encode(ramp, "PNG")).image)[..., 0].ravel()
    assert grey.tolist() == list(range(256))


@pytest.mark.parametrize("size", [(1, 1), (8, 8)])
def test_tiny_images_decode(size: tuple[int, int]) -> None:
    assert load_image(encode(Image.new("RGB", size, (200, 30, 30)), "PNG")).image.size == size


def test_a_corrupt_image_stays_corrupt_after_ultralytics_wrapped_pillow() -> None:
    """ultralytics replaces Image.open with a wrapper that tries to install a HEIF plugin on unknown images."""
    import ultralytics.utils.patches  # noqa: F401 - applies the wrapper, as loading the YOLO detector does

    from PIL import Image

    from model.describe.intake import pillow_open

    assert Image.open.__module__.startswith("ultralytics")
    assert pillow_open().__module__ == "PIL.Image"
    with pytest.raises(ImageError) as error:
        load_image(b"\x00garbage" * 40, DescribeConfig())
    assert error.value.code == "image_corrupt"
