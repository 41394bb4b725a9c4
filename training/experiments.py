"""Ablations (one part left out at a time; the paper's Table 2 pairs) and sweeps (Figures 5-7), each a
Markdown table and a PNG plot.

Every variant is a full training run (``out/<experiment>/<variant>/``) scored on every test split
with its best-on-dev checkpoint. ``quick`` trains on a handful of examples for one epoch: a smoke
run of the whole pipeline, whose numbers mean nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model.config import ModelConfig
from training.config import TrainConfig, load_config_file
from training.runs import DataSpec, train_run

log = logging.getLogger(__name__)
QUICK_EXAMPLES = 24
QUICK_EVAL_EXAMPLES = 16


@dataclass(frozen=True)
class Variant:
    name: str
    ablation: dict[str, bool] = field(default_factory=dict)
    loss: dict[str, Any] = field(default_factory=dict)
    encoder_layers: int | None = None
    x: float | str | None = None  # the sweep's x value (plots)


def _ablations() -> list[Variant]:
    """Leave one part out: what the caption, the faces, the OCR text, all of N_z, the ANP task, the
    visual prefixes and the text-centred KL each add."""
    no = False
    return [
        Variant("full model"),
        Variant("without the caption (global level)", {"use_caption": no}),
        Variant("without the faces (local level)", {"use_faces": no}),
        Variant("without the OCR text (character level)", {"use_ocr": no}),
        Variant("without visual-to-text translation (no N_z)", {"use_caption": no, "use_faces": no, "use_ocr": no}),
        Variant("without the top-V ANP task", {"use_anp": no}),
        Variant("without the visual prefix fusion", {"use_prefix": no}),
        Variant("without text-centred training (epsilon = 0)", loss={"epsilon": 0.0}),
    ]


def _paper_ablations() -> list[Variant]:
    """The pairs of the paper's Table 2 (two levels of N_z left out at once, or kept alone)."""
    no = False
    return [
        Variant("full model"),
        Variant("without local + character-level alignment", {"use_faces": no, "use_ocr": no}),
        Variant("without global + character-level alignment", {"use_caption": no, "use_ocr": no}),
        Variant("without global + local alignment", {"use_caption": no, "use_faces": no}),
    ]


def _top_v() -> list[Variant]:
    return [Variant(f"top-V = {v if v is not None else 'all'}", loss={"top_v": v}, x=v if v is not None else "all")
            for v in (0, 1, 5, 10, 20, None)]


def _epsilon() -> list[Variant]:
    return [Variant(f"epsilon = {e / 10:.1f}", loss={"epsilon": e / 10}, x=e / 10) for e in range(1, 11)]


def _depth(model: ModelConfig) -> list[Variant]:
    layers = (model.text.bert or {}).get("num_hidden_layers") if model.text.bert else None
    total = layers or 6  # MiniLM-L6, the offline encoder
    depths = sorted({max(1, total // 3), max(1, 2 * total // 3), total})
    return [Variant(f"{d} encoder layers", encoder_layers=d, x=d) for d in depths]


EXPERIMENTS: dict[str, Callable[[ModelConfig], list[Variant]]] = {
    "ablations": lambda model: _ablations(),
    "paper-ablations": lambda model: _paper_ablations(),
    "top-v": lambda model: _top_v(),
    "epsilon": lambda model: _epsilon(),
    "depth": _depth,
}
TITLES = {"ablations": "Ablations: one part left out at a time",
          "paper-ablations": "Ablations: the level pairs of the paper's Table 2", "top-v": "Top-V ANPs (paper Figure 5)",
          "epsilon": "KL weight epsilon (paper Figure 6)", "depth": "Text encoder depth (paper Figure 7)"}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def run_experiments(names: list[str], spec: DataSpec, out: Path, settings: Any, quick: bool = False,
                    epochs: int | None = None, config_file: Path | None = None) -> list[Path]:
    """Run each experiment's variants; returns the tables and plots written."""
    model, train = load_config_file(config_file, ModelConfig.offline_default(), TrainConfig())
    train = replace(train, epochs=epochs or (1 if quick else train.epochs))
    if quick:
        train = replace(train, max_examples=QUICK_EXAMPLES, max_eval_examples=QUICK_EVAL_EXAMPLES, batch_size=8)
    written: list[Path] = []
    for name in names:
        rows = []
        for variant in EXPERIMENTS[name](model):
            run_model = model.with_ablation(**variant.ablation) if variant.ablation else model
            run_train = train.with_loss(**variant.loss) if variant.loss else train
            log.info("experiment %s: %s", name, variant.name)
            result = train_run(run_model, run_train, spec, out / name / slug(variant.name), settings,
                               progress=not quick, encoder_layers=variant.encoder_layers)
            rows.append((variant, {k: v for k, v in result.items() if k.startswith("test")}, result.get("summary", {})))
        written.append(write_table(out / f"{name}.md", TITLES[name], rows, quick))
        written.append(write_plot(out / f"{name}.png", TITLES[name], rows, sweep=name != "ablations"))
    return written


def _pct(metrics: dict[str, Any], key: str, name: str) -> str:
    value = (metrics.get(key) or {}).get(name)
    return f"{100 * value:.1f}" if isinstance(value, (int, float)) else "-"


SEGMENT_COLUMNS = ("ad_copy", "ocr", "face_photo", "face_template", "caption")


def write_table(path: Path, title: str, rows: list, quick: bool) -> Path:
    """One table per test split: JMASA, ATE, MASC, overall, and JMASA F1 per segment."""
    lines = [f"# {title}", ""]
    if quick:
        lines += ["Quick mode (a few examples, one epoch): a smoke run, not a result.", ""]
    splits = sorted({name for _, tests, _ in rows for name in tests}, key=lambda n: (n != "test", n))
    for split in splits:
        lines += [f"## {split}", "",
                  "| variant | JMASA P | JMASA R | JMASA F1 | ATE F1 | MASC acc | overall acc | "
                  + " | ".join(f"{c} F1" for c in SEGMENT_COLUMNS) + " | best dev F1 |",
                  "|---|---|---|---|---|---|---|" + "---|" * len(SEGMENT_COLUMNS) + "---|"]
        for variant, tests, summary in rows:
            test = tests.get(split, {})
            segments = test.get("per_segment") or {}
            dev = summary.get("best_dev_jmasa_f1")
            lines.append(f"| {variant.name} | {_pct(test, 'jmasa', 'precision')} | {_pct(test, 'jmasa', 'recall')} | "
                         f"{_pct(test, 'jmasa', 'f1')} | {_pct(test, 'ate', 'f1')} | {_pct(test, 'masc', 'accuracy')} | "
                         f"{_pct(test, 'overall', 'accuracy')} | "
                         + " | ".join(_pct(segments.get(c) or {}, "jmasa", "f1") for c in SEGMENT_COLUMNS)
                         + f" | {f'{100 * dev:.1f}' if dev is not None else '-'} |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_plot(path: Path, title: str, rows: list, sweep: bool) -> Path:
    """Test JMASA F1 per variant: a line over the sweep's x values, or horizontal bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f1 = [100 * ((tests.get("test", {}).get("jmasa") or {}).get("f1") or 0.0) for _, tests, _ in rows]
    labels = [str(v.x) if sweep else v.name for v, _, _ in rows]
    figure, axis = plt.subplots(figsize=(7, 4 if sweep else 0.45 * len(rows) + 1.5))
    if sweep:
        axis.plot(range(len(f1)), f1, marker="o")
        axis.set_xticks(range(len(f1)), labels)
        axis.set_ylabel("test JMASA F1 (%)")
    else:
        axis.barh(range(len(f1)), f1)
        axis.set_yticks(range(len(f1)), labels, fontsize=8)
        axis.invert_yaxis()
        axis.set_xlabel("test JMASA F1 (%)")
    axis.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
