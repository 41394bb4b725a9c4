"""The ad data sets that ship with the project (adcorpus, ads-mini): their splits and rendered images."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from training.data.examples import JmasaExample
from training.data.jsonl import load_jsonl, read_records

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledDataset:
    """A data set in the project's JSONL format under ``directory``, images rendered on demand."""

    name: str
    directory: Path
    splits: tuple[str, ...]
    images_folder: str  # under the state dir

    def path(self, split: str) -> Path:
        if split not in self.splits:
            raise ValueError(f"{self.name} has no split {split!r}; choose from {', '.join(self.splits)}")
        return self.directory / f"{split}.jsonl"

    def load(self, split: str, images_dir: Path | str | None = None) -> list[JmasaExample]:
        return load_jsonl(self.path(split), images_dir)

    def ensure_images(self, state_dir: Path) -> Path:
        """Render the images of every split into ``state_dir/images_folder`` when any is missing."""
        from training.data.render_ads import render_all

        directory = Path(state_dir) / self.images_folder
        records = [r for split in self.splits for r in read_records(self.path(split))]
        missing = [r for r in records if not (directory / (r.image or f"images/{r.ad_id}.png")).is_file()]
        if missing:
            log.info("rendering %d %s images into %s", len(missing), self.name, directory)
            render_all(missing, directory)
        return directory


def _registry() -> dict[str, BundledDataset]:
    from training.data import adcorpus, ads_mini

    return {"ads": BundledDataset("ads", adcorpus.ADCORPUS_DIR, adcorpus.SPLITS, "adcorpus_images"),
            "ads-mini": BundledDataset("ads-mini", ads_mini.ADS_MINI_DIR, ads_mini.SPLITS, "ads_mini_images")}


BUNDLED: dict[str, BundledDataset] = _registry()
