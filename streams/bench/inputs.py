"""The ads a run uses: synthetic ads with printed slogans and bundled photos, as inline JPEG uploads."""

from __future__ import annotations

import io
from collections.abc import Iterator

from schemas import AdUploaded, ImageRef
from streams.demo.samples import SAMPLE_ADS, photo_jpeg

JPEG_QUALITY = 90


def _jpeg(image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def image_pool(count: int, seed: int = 0) -> list[tuple[bytes, str]]:
    """``count`` distinct (JPEG, ad copy) pairs: every other one a synthetic ad with text, else a photo."""
    from training.data.render_ads import generate_ocr_ads

    synthetic = list(generate_ocr_ads(max(1, (count + 1) // 2), seed))
    photos = [(photo_jpeg(name), text) for name, text in SAMPLE_ADS]
    pool: list[tuple[bytes, str]] = []
    for index in range(count):
        if index % 2 == 0:
            ad = synthetic[(index // 2) % len(synthetic)]
            pool.append((_jpeg(ad.image), f"{ad.text.splitlines()[0]}. Shop now."))
        else:
            pool.append(photos[(index // 2) % len(photos)])
    return pool


def bench_ads(count: int, prefix: str, pool: list[tuple[bytes, str]]) -> Iterator[AdUploaded]:
    """``count`` uploads cycling over ``pool``, with unique ad ids (``prefix-0000`` ...)."""
    for index in range(count):
        data, text = pool[index % len(pool)]
        yield AdUploaded(ad_id=f"{prefix}-{index:05d}", image=ImageRef(data=data, content_type="image/jpeg"),
                         text=text, platform="bench")
