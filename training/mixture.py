"""Training on several data sets at once: ``adsent train --mixture FILE.json``.

The file names the parts, each a data set as ``adsent train`` knows them, and a sampling weight::

    {"seed": 13,
     "parts": [{"name": "ads", "dataset": "ads", "weight": 1.0},
               {"name": "rest14", "dataset": "unified", "data_dir": "data/e2e-absa/rest14", "weight": 0.5},
               {"name": "twitter2015", "dataset": "twitter", "data_dir": "data/twitter2015", "weight": 0.5}]}

``data_dir`` and ``images_dir`` are relative to ``data_root`` (a key of the file, itself relative to
the file; default the file's folder), and ``adsent train --mixture FILE --data-dir DIR`` sets the
root instead, so one file serves wherever the data sets live. The training set is drawn once per
run: a part of weight ``w`` contributes ``floor(w)`` copies of its training split and a random
``w - floor(w)`` share more. Text-only parts (reviews, tweets without images) feed the S view
only; ads with images train both views as usual (Eq. 13-15 unchanged). Dev selection uses the
weighted mean of each part's dev JMASA F1, and the run ends with a test table per part and split.
Example ids are prefixed with their part (``rest14/...``). ``"calibrate_on": "ads"`` fits the
confidence temperatures on that part's dev split alone (the domain the model serves; one
temperature does not fit reviews, tweets and ads at once), else on every part's.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, replace
from pathlib import Path

from training.data.bundled import BUNDLED
from training.data.examples import JmasaExample
from training.runs import DataSpec

PART_SEPARATOR = "/"


@dataclass(frozen=True)
class MixturePart:
    name: str
    spec: DataSpec
    weight: float = 1.0


@dataclass(frozen=True)
class Mixture:
    """Several data sets with sampling weights; loads like a :class:`DataSpec`."""

    parts: tuple[MixturePart, ...]
    seed: int = 13
    dataset: str = "mixture"
    images_dir: Path | None = None
    calibrate_on: str | None = None  # the part whose dev split the confidence temperatures are fitted on

    def __post_init__(self) -> None:
        names = [p.name for p in self.parts]
        if not names or len(set(names)) != len(names) or any(PART_SEPARATOR in n for n in names):
            raise ValueError(f"a mixture needs parts with distinct names without {PART_SEPARATOR!r}, got {names}")
        if self.calibrate_on is not None and self.calibrate_on not in names:
            raise ValueError(f"calibrate_on names no part: {self.calibrate_on!r} (parts: {names})")
        if any(p.weight <= 0 for p in self.parts):
            raise ValueError("every part's weight must be positive")

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "seed": self.seed, "calibrate_on": self.calibrate_on,
                "parts": [{"name": p.name, "weight": p.weight, **p.spec.to_dict()} for p in self.parts]}

    @property
    def weights(self) -> dict[str, float]:
        return {p.name: p.weight for p in self.parts}

    def load(self, split: str) -> list[JmasaExample]:
        """Every part's split (ids prefixed with the part); the training split drawn by the weights."""
        rng = random.Random(self.seed)
        examples: list[JmasaExample] = []
        for part in self.parts:
            loaded = [tagged(e, part.name) for e in part.spec.load(split)]
            examples += sample(loaded, part.weight, rng) if split == "train" else loaded
        return examples

    def test_sets(self) -> list[tuple[str, list[JmasaExample]]]:
        """``(name, examples)`` of every part's test splits, named ``test_<part>_<split>``."""
        return [(f"test_{part.name}_{split}", [tagged(e, part.name) for e in part.spec.load(split)])
                for part in self.parts for split in part.spec.test_splits()]


def tagged(example: JmasaExample, part: str) -> JmasaExample:
    return replace(example, example_id=f"{part}{PART_SEPARATOR}{example.example_id}")


def part_of(example: JmasaExample) -> str:
    return example.example_id.split(PART_SEPARATOR, 1)[0]


def sample(examples: list[JmasaExample], weight: float, rng: random.Random) -> list[JmasaExample]:
    """``floor(weight)`` copies of ``examples`` and a random ``weight - floor(weight)`` share more."""
    whole = math.floor(weight)
    extra = round((weight - whole) * len(examples))
    return examples * whole + rng.sample(examples, extra)


def load_mixture(path: Path | str, state_dir: Path, with_images: bool = True, data_root: Path | None = None) -> Mixture:
    """The mixture a JSON file describes; bundled ad sets get their rendered images (unless text only).

    Parts' folders resolve against ``data_root`` when given, else the file's ``data_root`` key
    (relative to the file), else the file's folder.
    """
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"seed", "parts", "data_root", "description", "calibrate_on"}
    if unknown or not isinstance(data.get("parts"), list):
        raise ValueError(f"{path}: expected {{'seed': int, 'parts': [...]}} (and optional data_root, calibrate_on, "
                         "description), "
                         f"unknown keys {sorted(unknown)}")
    root = Path(data_root) if data_root is not None else path.parent / data.get("data_root", ".")
    parts = []
    for entry in data["parts"]:
        extra = set(entry) - {"name", "dataset", "data_dir", "images_dir", "weight"}
        if extra or "dataset" not in entry:
            raise ValueError(f"{path}: a part needs 'dataset' (and optional name, data_dir, images_dir, weight), "
                             f"got unknown keys {sorted(extra)}")
        folder = lambda key: (root / entry[key]) if entry.get(key) else None  # noqa: E731
        images = folder("images_dir")
        if images is None and with_images and entry["dataset"] in BUNDLED:
            images = BUNDLED[entry["dataset"]].ensure_images(state_dir)
        spec = DataSpec(entry["dataset"], folder("data_dir"), images)
        if spec.data_dir is not None and not spec.data_dir.is_dir():
            raise ValueError(f"{path}: part {entry.get('name', entry['dataset'])!r}: no folder {spec.data_dir} "
                             "(set the data sets' root with --data-dir)")
        parts.append(MixturePart(entry.get("name", entry["dataset"]), spec, float(entry.get("weight", 1.0))))
    return Mixture(tuple(parts), int(data.get("seed", 13)), calibrate_on=data.get("calibrate_on"))
