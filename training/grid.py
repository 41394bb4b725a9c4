"""Cross-domain scores: several checkpoints on several test sets ("trained on X, tested on Y").

A grid file names the models and the test sets::

    {"models": [{"name": "ads only", "checkpoint": "runs/ads/best"},
                {"name": "rest14", "checkpoint": "runs/rest14/best", "text_only": true}],
     "tests": [{"name": "ads, unseen wording", "dataset": "ads", "split": "test"},
               {"name": "rest14", "dataset": "unified", "data_dir": "e2e-absa/rest14"}]}

Checkpoints are relative to the working directory (where runs live); test folders to the data
root (``--data-dir``, else the file's folder). A model reads images where the test set has them
unless it is ``text_only``. Each cell's full report is kept in ``out/cells/`` and reused, so a
grid grows as models are trained; a checkpoint that does not exist yet leaves its row empty.
``grid.md`` holds JMASA F1, then ATE F1 / MASC accuracy; ``grid.json`` every cell's headline figures.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.data.bundled import BUNDLED
from training.experiments import percent, slug
from training.runs import DataSpec, evaluate_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GridModel:
    name: str
    checkpoint: Path
    text_only: bool = False


@dataclass(frozen=True)
class GridTest:
    name: str
    spec: DataSpec
    split: str = "test"


def load_grid(path: Path, data_root: Path | None, state_dir: Path) -> tuple[list[GridModel], list[GridTest]]:
    """The models and test sets of a grid file (see the module docstring)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if set(data) - {"models", "tests", "description"} or not data.get("models") or not data.get("tests"):
        raise ValueError(f"{path}: expected {{'models': [...], 'tests': [...]}} (and an optional description)")
    root = data_root if data_root is not None else Path(path).parent
    models = [GridModel(m["name"], Path(m["checkpoint"]), bool(m.get("text_only", False))) for m in data["models"]]
    tests = []
    for entry in data["tests"]:
        dataset = entry["dataset"]
        folder = root / entry["data_dir"] if entry.get("data_dir") else None
        if folder is not None and not folder.is_dir():
            raise ValueError(f"{path}: test {entry['name']!r}: no folder {folder} (set the data root with --data-dir)")
        images = BUNDLED[dataset].ensure_images(state_dir) if dataset in BUNDLED else None
        tests.append(GridTest(entry["name"], DataSpec(dataset, folder, images), entry.get("split", "test")))
    return models, tests


def cell_name(model: GridModel, test: GridTest) -> str:
    return f"{slug(model.name)}__{slug(test.name)}.json"


def run_grid(models: list[GridModel], tests: list[GridTest], out: Path, settings: Any) -> dict[str, dict[str, Any]]:
    """Every model on every test set (reusing the cells already scored); ``{model: {test: report}}``."""
    cells = out / "cells"
    grid: dict[str, dict[str, Any]] = {}
    for model in models:
        if not (model.checkpoint / "config.json").is_file():
            log.warning("grid: %s has no checkpoint at %s yet; its row stays empty", model.name, model.checkpoint)
            grid[model.name] = {}
            continue
        row = grid.setdefault(model.name, {})
        for test in tests:
            path = cells / cell_name(model, test)
            cached = json.loads(path.read_text()) if path.is_file() else None
            if cached is None or cached["meta"].get("checkpoint") != str(model.checkpoint):
                log.info("grid: %s on %s", model.name, test.name)
                evaluate_checkpoint(model.checkpoint, test.spec, test.split, settings, path, model.text_only,
                                    progress=False)
                cached = json.loads(path.read_text())  # the report document, as a reuse reads it
            row[test.name] = cached
    return grid


def write_grid(grid: dict[str, dict[str, Any]], tests: list[GridTest], out: Path, title: str) -> list[Path]:
    """``grid.md`` (JMASA F1, then ATE F1 / MASC accuracy, rows trained on, columns tested on) and ``grid.json``."""
    names = [t.name for t in tests]
    header = "| trained on \\ tested on | " + " | ".join(names) + " |"
    rule = "|---|" + "---|" * len(names)
    lines = [f"# {title}", "", "JMASA F1 (%)", "", header, rule]
    lines += [f"| {model} | " + " | ".join(percent(row.get(n), "jmasa", "f1") for n in names) + " |"
              for model, row in grid.items()]
    lines += ["", "ATE F1 / MASC accuracy (%)", "", header, rule]
    lines += [f"| {model} | " + " | ".join(f"{percent(row.get(n), 'ate', 'f1')} / {percent(row.get(n), 'masc', 'accuracy')}"
                                           for n in names) + " |" for model, row in grid.items()]
    out.mkdir(parents=True, exist_ok=True)
    table = out / "grid.md"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = {model: {name: {task: report.get(task) for task in ("jmasa", "ate", "masc", "calibration")}
                       for name, report in row.items()} for model, row in grid.items()}
    document = out / "grid.json"
    document.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return [table, document]
