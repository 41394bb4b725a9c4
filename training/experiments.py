"""Ablations (one part left out at a time; the paper's Table 2 pairs), sweeps (Figures 5-7) and the
training-recipe study, each a Markdown table and a PNG plot.

Every variant is a full training run (``out/<experiment>/<variant>/``, ``<variant>-seed-<n>`` for
extra seeds) scored on every test split with its best-on-dev checkpoint; a decoding-only variant
re-scores the first variant's checkpoint with another decoder instead. A run whose directory holds
a finished run of the same configuration is reused, so an interrupted study picks up where it
stopped. ``quick`` trains on a handful of examples for one epoch: a smoke run of the whole
pipeline, whose numbers mean nothing.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model.config import ModelConfig
from training.config import TrainConfig, load_config_file, merge
from training.runs import DataSpec, run_model_config, score_test_sets, train_run

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
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides
    model: dict[str, Any] = field(default_factory=dict)  # ModelConfig overrides (nested dicts merge)
    decode_only: bool = False  # re-score the experiment's first variant with ``model`` applied; no training

    def configs(self, model: ModelConfig, train: TrainConfig) -> tuple[ModelConfig, TrainConfig]:
        """The run's model and training configuration: the base ones with this variant's changes."""
        if self.model:
            model = ModelConfig.from_dict(merge(model.to_dict(), self.model))
        if self.ablation:
            model = model.with_ablation(**self.ablation)
        if self.train:
            train = TrainConfig.from_dict(merge(train.to_dict(), self.train))
        if self.loss:
            train = train.with_loss(**self.loss)
        return model, train


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


#: The recipe study's baseline: the training recipe before the study (epochs, rates, losses).
TODAYS_RECIPE: dict[str, Any] = {"epochs": 5, "lr_pretrained": 5e-5, "lr_layer_decay": 1.0,
                                 "loss": {"token": 0.0, "label_smoothing": 0.0, "sentiment_weighting": "none"}}


def _recipe() -> list[Variant]:
    """Training-recipe changes, each against today's recipe; the last variant is the current default."""
    today = TODAYS_RECIPE

    def changed(**train: Any) -> dict[str, Any]:
        return merge(today, train)

    return [
        Variant("today's recipe", train=today),
        Variant("encoder rate 1e-4", train=changed(lr_pretrained=1e-4)),
        Variant("encoder rate 2e-4", train=changed(lr_pretrained=2e-4)),
        Variant("layer-wise rates (1e-4, x0.8 a layer down)", train=changed(lr_pretrained=1e-4, lr_layer_decay=0.8)),
        Variant("longer schedule (10 epochs)", train=changed(epochs=10)),
        Variant("batch size 8 (twice the steps)", train=changed(batch_size=8)),
        Variant("token loss + label smoothing 0.1", train=changed(loss={"token": 1.0, "label_smoothing": 0.1})),
        Variant("token loss + balanced sentiment weights",
                train=changed(loss={"token": 1.0, "sentiment_weighting": "balanced"})),
        Variant("span sentiment by marginal vote (decoding only)", train=today,
                model={"fusion": {"span_sentiment": "vote"}}, decode_only=True),
        Variant("max length 64", train=today, model={"text": {"max_length": 64}}),
        Variant("softmax head instead of the CRF", train=today, model={"fusion": {"tagger": "softmax"}}),
        Variant("the default recipe"),
    ]


EXPERIMENTS: dict[str, Callable[[ModelConfig], list[Variant]]] = {
    "ablations": lambda model: _ablations(),
    "paper-ablations": lambda model: _paper_ablations(),
    "top-v": lambda model: _top_v(),
    "epsilon": lambda model: _epsilon(),
    "depth": _depth,
    "recipe": lambda model: _recipe(),
}
TITLES = {"ablations": "Ablations: one part left out at a time",
          "paper-ablations": "Ablations: the level pairs of the paper's Table 2", "top-v": "Top-V ANPs (paper Figure 5)",
          "epsilon": "KL weight epsilon (paper Figure 6)", "depth": "Text encoder depth (paper Figure 7)",
          "recipe": "Training recipe: each change against today's recipe"}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def run_experiments(names: list[str], spec: DataSpec, out: Path, settings: Any, quick: bool = False,
                    epochs: int | None = None, config_file: Path | None = None, seeds: tuple[int, ...] = (),
                    only: tuple[str, ...] = (), text_only: bool = False, max_length: int | None = None) -> list[Path]:
    """Run each experiment's variants (those whose slug is in ``only``, when given) once per seed
    (default: the configuration's seed); returns the tables and plots written. A variant's own
    training settings (the recipe study's epochs) win over ``epochs``."""
    base = ModelConfig.offline_default().with_backbones(getattr(settings, "text_encoder", None),
                                                        getattr(settings, "vision_backbone", None))
    model, train = load_config_file(config_file, base, TrainConfig())
    train = replace(train, epochs=epochs or (1 if quick else train.epochs), text_only=text_only or train.text_only)
    if max_length is not None:
        model = replace(model, text=replace(model.text, max_length=max_length))
    seeds = seeds or (train.seed,)
    known = {slug(v.name) for name in names for v in EXPERIMENTS[name](model)}
    if set(only) - known:
        raise ValueError(f"unknown variants {sorted(set(only) - known)}; choose from {sorted(known)}")
    written: list[Path] = []
    for name in names:
        rows = []
        variants = EXPERIMENTS[name](model)
        for variant in variants:
            if only and slug(variant.name) not in only:
                continue
            for seed in seeds:
                run_model, run_train = variant.configs(model, replace(train, seed=seed))
                if quick:
                    run_train = replace(run_train, epochs=1, max_examples=QUICK_EXAMPLES,
                                        max_eval_examples=QUICK_EVAL_EXAMPLES, batch_size=8)
                directory = out / name / run_name(variant, seed, train.seed)
                log.info("experiment %s: %s (seed %d)", name, variant.name, seed)
                if variant.decode_only:
                    first = out / name / run_name(variants[0], seed, train.seed)
                    result = rescore(first, run_model, spec, directory, settings, run_train)
                else:
                    result = finished_run(directory, run_model, run_train) or train_run(
                        run_model, run_train, spec, directory, settings, progress=not quick,
                        encoder_layers=variant.encoder_layers)
                rows.append((variant, {k: v for k, v in result.items() if k.startswith("test")},
                             {**result.get("summary", {}), "seed": seed}))
        if name == "recipe":
            written.append(write_seed_table(out / f"{name}.md", TITLES[name], rows, quick))
        else:
            written.append(write_table(out / f"{name}.md", TITLES[name], rows, quick))
        written.append(write_plot(out / f"{name}.png", TITLES[name], rows, sweep=name not in ("ablations", "recipe")))
    return written


def run_name(variant: Variant, seed: int, default_seed: int) -> str:
    return slug(variant.name) + ("" if seed == default_seed else f"-seed-{seed}")


def finished_run(directory: Path, model: ModelConfig, train: TrainConfig) -> dict[str, Any] | None:
    """metrics.json of a finished run with exactly this configuration: in ``directory``, else in a
    sibling (another variant that turned out the same, e.g. the default recipe); else None."""
    candidates = [directory, *sorted(p for p in directory.parent.glob("*") if p != directory)]
    for candidate in candidates:
        result = _finished(candidate, model, train)
        if result is not None:
            log.info("reusing the finished run in %s", candidate)
            if candidate != directory and not directory.exists():
                directory.symlink_to(candidate.name)  # the variant's folder is where its checkpoint is looked for
            return result
    return None


def _finished(directory: Path, model: ModelConfig, train: TrainConfig) -> dict[str, Any] | None:
    config, metrics = directory / "config.json", directory / "metrics.json"
    if not (config.is_file() and metrics.is_file()):
        return None
    saved = json.loads(config.read_text(encoding="utf-8"))
    # through the dataclasses, so fields added since the run was made compare at their defaults
    same_train = TrainConfig.from_dict(saved.get("train", {})) == train
    same_model = ModelConfig.from_dict(saved.get("model", {})) == run_model_config(model, train)
    result = json.loads(metrics.read_text(encoding="utf-8"))
    return result if same_train and same_model and "total_seconds" in result.get("summary", {}) else None


def rescore(trained: Path, model_config: ModelConfig, spec: Any, out: Path, settings: Any,
            train: TrainConfig) -> dict[str, Any]:
    """The best checkpoint of the run in ``trained`` scored on every test split with ``model_config``'s
    decoding settings (no training); writes ``out/metrics.json`` like a run."""
    from model.predict import AdSentimentModel
    from training.runs import feature_cache

    if not (trained / "best").is_dir():
        raise ValueError(f"the decoding-only variant needs the trained run {trained} (run its variant first)")
    model = AdSentimentModel.from_pretrained(trained / "best")
    config = replace(model.config, fusion=replace(model.config.fusion, span_sentiment=model_config.fusion.span_sentiment))
    model.config = model.network.config = config
    cache = None if train.text_only else feature_cache(settings, config, model.device.type)
    summary = json.loads((trained / "metrics.json").read_text())["summary"]
    result: dict[str, Any] = {"summary": {"best_dev_jmasa_f1": summary.get("best_dev_jmasa_f1")}}
    result.update(score_test_sets(model, spec, cache, train, out, {"rescored": str(trained / "best")}))
    (out / "metrics.json").write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    return result


def percent(metrics: dict[str, Any] | None, key: str, name: str) -> str:
    """``metrics[key][name]`` as a percentage with one decimal, "-" when absent."""
    value = ((metrics or {}).get(key) or {}).get(name)
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
            lines.append(f"| {variant.name} | {percent(test, 'jmasa', 'precision')} | {percent(test, 'jmasa', 'recall')} | "
                         f"{percent(test, 'jmasa', 'f1')} | {percent(test, 'ate', 'f1')} | {percent(test, 'masc', 'accuracy')} | "
                         f"{percent(test, 'overall', 'accuracy')} | "
                         + " | ".join(percent(segments.get(c) or {}, "jmasa", "f1") for c in SEGMENT_COLUMNS)
                         + f" | {f'{100 * dev:.1f}' if dev is not None else '-'} |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _mean_sd(values: list[float]) -> str:
    """``mean`` of percentages, with ``± sd`` over seeds when there are several."""
    if not values:
        return "-"
    mean = 100 * statistics.fmean(values)
    return f"{mean:.1f} ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else f"{mean:.1f}"


SEED_COLUMNS: tuple[tuple[str, Callable[[dict[str, Any]], float | None]], ...] = (
    ("JMASA F1", lambda m: (m.get("jmasa") or {}).get("f1")),
    ("JMASA P", lambda m: (m.get("jmasa") or {}).get("precision")),
    ("JMASA R", lambda m: (m.get("jmasa") or {}).get("recall")),
    ("ATE F1", lambda m: (m.get("ate") or {}).get("f1")),
    ("MASC acc", lambda m: (m.get("masc") or {}).get("accuracy")),
    ("attribute ECE (%)", lambda m: (m.get("calibration") or {}).get("attribute_ece")),
)


def write_seed_table(path: Path, title: str, rows: list, quick: bool) -> Path:
    """One table per test split, one row per variant: the mean (± sd over seeds) of each column."""
    lines = [f"# {title}", ""]
    if quick:
        lines += ["Quick mode (a few examples, one epoch): a smoke run, not a result.", ""]
    splits = sorted({name for _, tests, _ in rows for name in tests}, key=lambda n: (n != "test", n))
    order = list(dict.fromkeys(variant.name for variant, _, _ in rows))
    for split in splits:
        lines += [f"## {split}", "", "| variant | seeds | " + " | ".join(c for c, _ in SEED_COLUMNS)
                  + " | best dev F1 | minutes a run |", "|---|---|" + "---|" * (len(SEED_COLUMNS) + 2)]
        for name in order:
            chosen = [(tests.get(split, {}), summary) for variant, tests, summary in rows if variant.name == name]
            cells = [_mean_sd([v for v in (get(test) for test, _ in chosen) if isinstance(v, (int, float))])
                     for _, get in SEED_COLUMNS]
            dev = _mean_sd([s["best_dev_jmasa_f1"] for _, s in chosen if s.get("best_dev_jmasa_f1") is not None])
            minutes = [s["total_seconds"] / 60 for _, s in chosen if s.get("total_seconds")]
            seeds = ", ".join(str(s.get("seed")) for _, s in chosen)
            lines.append(f"| {name} | {seeds} | " + " | ".join(cells) + f" | {dev} | "
                         + (f"{statistics.fmean(minutes):.1f}" if minutes else "-") + " |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_plot(path: Path, title: str, rows: list, sweep: bool) -> Path:
    """Test JMASA F1 per variant: a line over the sweep's x values, or horizontal bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_variant: dict[str, list[float]] = {}
    for variant, tests, _ in rows:  # several seeds of a variant: their mean
        label = str(variant.x) if sweep else variant.name
        by_variant.setdefault(label, []).append(100 * ((tests.get("test", {}).get("jmasa") or {}).get("f1") or 0.0))
    labels = list(by_variant)
    f1 = [statistics.fmean(values) for values in by_variant.values()]
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
