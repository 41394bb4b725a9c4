"""Typed errors of the data loaders, with stable codes."""

from __future__ import annotations

from enum import Enum
from pathlib import Path


class DatasetErrorCode(str, Enum):
    """Stable codes; never rename one."""

    FILE_NOT_FOUND = "file_not_found"
    BAD_ROW = "bad_row"
    BAD_LABEL = "bad_label"
    TARGET_NOT_FOUND = "target_not_found"
    CONFLICTING_SPANS = "conflicting_spans"
    INVALID_RECORD = "invalid_record"
    DUPLICATE_ID = "duplicate_id"


class DatasetError(ValueError):
    """A data file could not be read. ``line`` is 1-based (0 when it concerns the whole file)."""

    def __init__(self, code: DatasetErrorCode, path: Path | str, line: int, message: str) -> None:
        self.code = code
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"[{code.value}] {where}: {message}")
