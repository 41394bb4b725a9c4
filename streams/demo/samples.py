"""Sample ads for the demo: real photos that ship inside packages, with realistic ad copy."""

from __future__ import annotations

import io
from collections.abc import Iterator

from schemas import AdUploaded, ImageRef

# (photo loader name in skimage.data, ad copy)
SAMPLE_ADS: tuple[tuple[str, str], ...] = (
    ("astronaut", "Reach for the stars: our new flight jacket keeps you warm at any altitude."),
    ("coffee", "Freshly roasted beans, rich crema and a smooth finish in every cup."),
    ("chelsea", "Picky cats love our salmon recipe. Grain free, vet approved."),
    ("rocket", "Launch your savings: zero fees for the first year on the Orbit account."),
    ("camera", "The vintage look is back. Shoot film-grade portraits with the new X-100."),
    ("hubble_deep_field", "Explore the universe from your sofa: stream 300 documentaries today."),
)


def photo_jpeg(name: str, quality: int = 90) -> bytes:
    """One of scikit-image's bundled photos, encoded as JPEG as a platform would upload it."""
    from PIL import Image
    from skimage import data as skdata

    array = getattr(skdata, name)()
    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def sample_ads(count: int, prefix: str = "demo") -> Iterator[AdUploaded]:
    """``count`` sample ads cycling over the bundled photos, with unique ad ids."""
    images: dict[str, bytes] = {}
    for index in range(count):
        name, text = SAMPLE_ADS[index % len(SAMPLE_ADS)]
        if name not in images:
            images[name] = photo_jpeg(name)
        yield AdUploaded(ad_id=f"{prefix}-{index:04d}", image=ImageRef(data=images[name], content_type="image/jpeg"),
                         text=text, platform="demo", metadata={"photo": name})
