"""The one typed error of image intake, with stable codes."""

from __future__ import annotations

from typing import Literal

ImageErrorCode = Literal[
    "image_empty",
    "image_corrupt",
    "image_truncated",
    "image_too_large",
    "image_too_many_pixels",
    "image_decoded_too_large",
    "image_unsupported_format",
    "image_unreadable",
]


class ImageError(ValueError):
    """An image that cannot be described. ``code`` is stable; ``message`` says what and why."""

    def __init__(self, code: ImageErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ImageErrorCode = code
        self.message = message
