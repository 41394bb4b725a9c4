"""Every size of the explain report, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportConfig:
    """How the report embeds images and splits many ads into pages."""

    image_max_side: int = 420  # pixels of the embedded copy's longer side (boxes scale with it)
    image_quality: int = 70  # JPEG quality of the embedded copy
    page_size: int = 25  # ads per page; the index at the top lists every ad
    open_max: int = 6  # reports with at most this many ads show every ad expanded; larger ones collapsed
    message_chars: int = 300  # longest dead-letter message shown in the index
    title: str = "adsent: why each ad was tagged"

    def __post_init__(self) -> None:
        if self.image_max_side < 16 or not 1 <= self.image_quality <= 95 or self.page_size < 1:
            raise ValueError("image_max_side >= 16, 1 <= image_quality <= 95 and page_size >= 1 are required")
