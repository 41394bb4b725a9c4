"""``adsent train``, ``adsent evaluate`` and ``adsent experiments``."""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from schemas.cli_support import fail, settings_of

log = logging.getLogger(__name__)


class Dataset(str, Enum):
    ads = "ads"
    twitter = "twitter"
    jsonl = "jsonl"
    unified = "unified"
    ads_mini = "ads-mini"


class Split(str, Enum):
    dev = "dev"
    test = "test"
    test_category = "test_category"


DATASET_HELP = ("ads: the bundled ad corpus (adcorpus: 38 categories, image-side labels); twitter: Twitter-2015/2017 "
                "(IJCAI-2019 .txt or .tsv) under --data-dir; jsonl: {train,dev,test}.jsonl ad files under --data-dir; "
                "unified: {train,dev,test}.txt review sentences in the unified aspect-sentiment tags (sentence####tok=T-POS "
                "...; e.g. ../shared/data/e2e-absa/rest14; text only); ads-mini: the earlier small bundled set.")
IMAGES_HELP = "Images directory. ads, ads-mini default: <state dir>/<name>_images (rendered when missing)."


def data_spec(dataset: "Dataset", data_dir: Path | None, images_dir: Path | None, state_dir: Path,
              text_only: bool):  # noqa: ANN201
    """The :class:`training.runs.DataSpec` of the options; a bundled set gets its rendered images."""
    from training.runs import DataSpec

    if not text_only:
        images_dir = bundled_images(dataset, images_dir, state_dir)
    return DataSpec(dataset.value, data_dir, images_dir)


def bundled_images(dataset: "Dataset", images_dir: Path | None, state_dir: Path) -> Path | None:
    """``images_dir``, or for a bundled data set its rendered images (rendering what is missing)."""
    from training.data.bundled import BUNDLED

    if images_dir is not None or dataset.value not in BUNDLED:
        return images_dir
    return BUNDLED[dataset.value].ensure_images(state_dir)
CONFIG_HELP = ('JSON file of overrides: {"preset": "tiny"|"offline", "model": {ModelConfig fields}, '
               '"train": {TrainConfig fields}}.')


def test_summary(tests: dict) -> str:
    """One row per test set: JMASA P/R/F1, ATE F1, MASC accuracy (percent)."""
    lines = [f"{'test set':<32}{'JMASA P':>9}{'R':>8}{'F1':>8}{'ATE F1':>9}{'MASC':>8}"]
    for name, m in tests.items():
        lines.append(f"{name:<32}{100 * m['jmasa']['precision']:9.1f}{100 * m['jmasa']['recall']:8.1f}"
                     f"{100 * m['jmasa']['f1']:8.1f}{100 * m['ate']['f1']:9.1f}{100 * m['masc']['accuracy']:8.1f}")
    return "\n".join(lines)


def _logging() -> None:
    """INFO logs for a command called without the root callback (the root configures them otherwise)."""
    from schemas.logs import configure_logging

    if not logging.getLogger().handlers:
        configure_logging("INFO")


def train_command(
    ctx: typer.Context,
    dataset: Annotated[Dataset, typer.Option(help=DATASET_HELP)] = Dataset.ads,
    data_dir: Annotated[Path | None, typer.Option(help="Directory of the split files (twitter, jsonl).")] = None,
    images_dir: Annotated[Path | None, typer.Option(help=IMAGES_HELP)] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (config, metrics.json, train.log, best/, last/).")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Training epochs (default 5).")] = None,
    text_only: Annotated[bool, typer.Option("--text-only", help="Train the text-only view S (no images).")] = False,
    eta: Annotated[float | None, typer.Option(help="Weight of the CRF NLL (Eq. 15, default 1).")] = None,
    omega: Annotated[float | None, typer.Option(help="Weight of the ANP cross-entropy (default 1).")] = None,
    epsilon: Annotated[float | None, typer.Option(help="Weight of the text-centred KL (default 0.3).")] = None,
    top_v: Annotated[int | None, typer.Option(help="ANPs kept in the teacher target; -1: all (default 10).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Training batch size (default 16).")] = None,
    max_length: Annotated[int | None, typer.Option(min=8, help="Token limit of [CLS] S [SEP] N_z [SEP].")] = None,
    config: Annotated[Path | None, typer.Option("--config", exists=True, dir_okay=False, help=CONFIG_HELP)] = None,
    teacher: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="DeepSentiBank outputs (.npz: image sha256 or file name -> 2,089 scores). Default: the weak "
             "offline teacher (text similarity + colour mood).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from <out>/last when it exists.")] = False,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Deterministic CPU mode.")] = False,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 13).")] = None,
    starter: Annotated[bool, typer.Option(
        "--starter", help="Train (or reuse) the starter model on the ad corpus with the offline backbones into the "
                          "state dir's starter-model folder.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --starter: retrain even when cached.")] = False,
    mixture: Annotated[Path | None, typer.Option(
        "--mixture", exists=True, dir_okay=False,
        help='Train on several data sets at once: a JSON file {"seed": 13, "parts": [{"name": "ads", "dataset": '
             '"ads", "weight": 1}, {"name": "rest14", "dataset": "unified", "data_dir": "...", "weight": 0.5}]} '
             '(paths relative to the file, or to --data-dir when given). Replaces --dataset/--images-dir.')] = None,
) -> None:
    """Train the fused model (losses of Eq. 13-15) and keep the best checkpoint by dev JMASA F1."""
    from dataclasses import replace

    from model.config import ModelConfig
    from model.fusion.errors import ModelError
    from training.config import TrainConfig, load_config_file
    from training.data.errors import DatasetError
    from training.runs import train_run

    _logging()
    settings = settings_of(ctx)
    try:
        if starter:
            from training.starter import StarterConfig, ensure_starter

            result = ensure_starter(settings, StarterConfig(), force=force)
            typer.echo(result.message)
            return
        model_config = ModelConfig.offline_default().with_backbones(settings.text_encoder, settings.vision_backbone)
        train_config = TrainConfig()
        model_config, train_config = load_config_file(config, model_config, train_config)
        if max_length:
            model_config = replace(model_config, text=replace(model_config.text, max_length=max_length))
        overrides = {k: v for k, v in dict(epochs=epochs, batch_size=batch_size, seed=seed).items() if v is not None}
        if text_only:
            overrides["text_only"] = True
        if deterministic:
            overrides["deterministic"] = True
        train_config = replace(train_config, **overrides)
        weights = {k: v for k, v in dict(eta=eta, omega=omega, epsilon=epsilon).items() if v is not None}
        if top_v is not None:
            weights["top_v"] = None if top_v < 0 else top_v
        train_config = train_config.with_loss(**weights)
        if mixture is not None:
            from training.mixture import load_mixture

            spec = load_mixture(mixture, settings.state_dir, with_images=not train_config.text_only,
                                data_root=data_dir)
        else:
            spec = data_spec(dataset, data_dir, images_dir, settings.state_dir, train_config.text_only)
        out = out or Path("runs") / f"{spec.dataset}-{'text' if train_config.text_only else 'fused'}"
        result = train_run(model_config, train_config, spec, out, settings, teacher, resume)
    except (ModelError, DatasetError, ValueError, OSError) as exc:
        fail(str(exc))
    summary = result["summary"]
    typer.echo(f"best dev JMASA F1 {summary.get('best_dev_jmasa_f1')} at epoch {summary['best_epoch']}; "
               f"{summary['total_seconds']:.0f} s; run directory {out}")
    from training.metrics import format_table

    tests = {k: v for k, v in result.items() if k.startswith("test")}
    for name, metrics in tests.items():
        typer.echo(f"{name}:\n" + format_table(metrics))
    if len(tests) > 1:
        typer.echo(test_summary(tests))


def evaluate_command(
    ctx: typer.Context,
    checkpoint: Annotated[Path, typer.Option(help="An adsent checkpoint directory (e.g. <run>/best).")],
    dataset: Annotated[Dataset, typer.Option(help=DATASET_HELP)] = Dataset.ads,
    data_dir: Annotated[Path | None, typer.Option(help="Directory of the split files (twitter, jsonl).")] = None,
    split: Annotated[Split, typer.Option(help="Split to score.")] = Split.test,
    images_dir: Annotated[Path | None, typer.Option(help=IMAGES_HELP)] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the metrics JSON here.")] = None,
    predictions: Annotated[Path | None, typer.Option(
        "--predictions", help="Write every example's gold and predicted spans here (JSON lines, with the missed, "
                              "spurious and wrongly signed ones listed), for error analysis.")] = None,
    text_only: Annotated[bool, typer.Option("--text-only", help="Score the text-only view S (ignore images).")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples per forward pass.")] = 32,
) -> None:
    """Score a checkpoint: JMASA P/R/F1, ATE F1, MASC accuracy/macro-F1, overall sentiment, per dimension and
    per segment (ad copy, caption, face, OCR), and the dimension rule's accuracy."""
    from model.fusion.errors import ModelError
    from training.data.errors import DatasetError
    from training.metrics import format_table
    from training.runs import evaluate_checkpoint

    _logging()
    settings = settings_of(ctx)
    try:
        spec = data_spec(dataset, data_dir, images_dir, settings.state_dir, text_only)
        metrics = evaluate_checkpoint(checkpoint, spec, split.value, settings, json_path, text_only, batch_size,
                                      predictions_path=predictions)
    except (ModelError, DatasetError, ValueError, OSError) as exc:
        fail(str(exc))
    typer.echo(format_table(metrics))
    if json_path is not None:
        typer.echo(f"wrote {json_path}")


def calibrate_command(
    ctx: typer.Context,
    checkpoint: Annotated[Path, typer.Option(help="An adsent checkpoint directory (e.g. <run>/best).")],
    dataset: Annotated[Dataset, typer.Option(help=DATASET_HELP)] = Dataset.ads,
    data_dir: Annotated[Path | None, typer.Option(help="Directory of the split files (twitter, jsonl, unified).")] = None,
    images_dir: Annotated[Path | None, typer.Option(help=IMAGES_HELP)] = None,
    text_only: Annotated[bool, typer.Option("--text-only", help="Calibrate the text-only view S.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples per forward pass.")] = 32,
) -> None:
    """Fit the confidence temperatures of a checkpoint on the dev split and write calibration.json
    into it (training does this at the end; this is for checkpoints trained before, or on other data)."""
    from model.fusion.errors import ModelError
    from training.calibration import calibrate
    from training.data.errors import DatasetError
    from training.runs import load_prepared

    _logging()
    settings = settings_of(ctx)
    try:
        spec = data_spec(dataset, data_dir, images_dir, settings.state_dir, text_only)
        model, prepared = load_prepared(checkpoint, spec, "dev", settings, text_only)
        result = calibrate(model, checkpoint, prepared, text_only, batch_size)
    except (ModelError, DatasetError, ValueError, OSError) as exc:
        fail(str(exc))
    before, after = result["dev_ece_before"], result["dev_ece_after"]

    def ece(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    typer.echo(f"attribute temperature {result['attribute']:.2f} (dev ECE {ece(before['attribute'])} -> "
               f"{ece(after['attribute'])}); overall temperature {result['overall']:.2f} (dev ECE "
               f"{ece(before['overall'])} -> {ece(after['overall'])}); wrote {checkpoint / 'calibration.json'}")


def experiments_command(
    ctx: typer.Context,
    which: Annotated[list[str] | None, typer.Argument(
        help="Experiments to run: ablations (one part left out at a time), paper-ablations (the level pairs of Table 2), top-v, epsilon, depth (default: all).")] = None,
    dataset: Annotated[Dataset, typer.Option(help=DATASET_HELP)] = Dataset.ads,
    data_dir: Annotated[Path | None, typer.Option(help="Directory of the split files (twitter, jsonl).")] = None,
    images_dir: Annotated[Path | None, typer.Option(help=IMAGES_HELP)] = None,
    out: Annotated[Path, typer.Option(help="Directory of the runs, tables (.md) and plots (.png).")] = Path(
        "runs/experiments"),
    quick: Annotated[bool, typer.Option("--quick", help="Few examples, one epoch: a smoke run of every variant.")] = False,
    epochs: Annotated[int | None, typer.Option(min=1, help="Epochs per variant (default 5; --quick: 1).")] = None,
    config: Annotated[Path | None, typer.Option("--config", exists=True, dir_okay=False, help=CONFIG_HELP)] = None,
    text_only: Annotated[bool, typer.Option("--text-only", help="Train the text-only view S (no images).")] = False,
    max_length: Annotated[int | None, typer.Option(min=8, help="Token limit of [CLS] S [SEP] N_z [SEP].")] = None,
    seeds: Annotated[str | None, typer.Option(
        help="Comma-separated seeds; every chosen variant runs once per seed (default: the config's seed, 13).")] = None,
    variants: Annotated[str | None, typer.Option(
        help="Comma-separated variant slugs to run (as their run folders are named, e.g. todays-recipe); default all.")] = None,
) -> None:
    """Ablations (one part left out at a time, and the paper's Table 2 pairs), sweeps (Figures 5-7: top-V,
    epsilon, encoder depth) and the training-recipe study; every test split of the data set is scored.
    A finished run of the same configuration in --out is reused, so an interrupted study resumes."""
    from model.fusion.errors import ModelError
    from training.data.errors import DatasetError
    from training.experiments import EXPERIMENTS, run_experiments

    _logging()
    settings = settings_of(ctx)
    chosen = which or list(EXPERIMENTS)
    unknown = [w for w in chosen if w not in EXPERIMENTS]
    if unknown:
        fail(f"unknown experiments {unknown}; choose from {list(EXPERIMENTS)}")
    try:
        seed_list = tuple(int(s) for s in seeds.split(",")) if seeds else ()
        only = tuple(v.strip() for v in variants.split(",")) if variants else ()
        spec = data_spec(dataset, data_dir, images_dir, settings.state_dir, text_only=text_only)
        written = run_experiments(chosen, spec, out, settings, quick=quick, epochs=epochs, config_file=config,
                                  seeds=seed_list, only=only, text_only=text_only, max_length=max_length)
    except (ModelError, DatasetError, ValueError, OSError) as exc:
        fail(str(exc))
    for path in written:
        typer.echo(f"wrote {path}")


def grid_command(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
        "Grid file: {\"models\": [{\"name\", \"checkpoint\", \"text_only\"}], \"tests\": [{\"name\", \"dataset\", "
        "\"data_dir\", \"split\"}]}, e.g. training/recipes/cross-domain.json."))],
    data_dir: Annotated[Path | None, typer.Option(
        help="Root of the test sets' data_dir folders (default: the grid file's folder).")] = None,
    out: Annotated[Path, typer.Option(help="Directory of grid.md, grid.json and the per-cell reports.")] = Path(
        "runs/cross-domain"),
    title: Annotated[str, typer.Option(help="The table's title.")] = "Cross-domain JMASA: trained on X, tested on Y",
) -> None:
    """Score several checkpoints on several test sets (trained on X, tested on Y) and write one table;
    cells already scored are reused, and a checkpoint not trained yet leaves its row empty."""
    from model.fusion.errors import ModelError
    from training.data.errors import DatasetError
    from training.grid import load_grid, run_grid, write_grid

    _logging()
    settings = settings_of(ctx)
    try:
        models, tests = load_grid(spec, data_dir, settings.state_dir)
        written = write_grid(run_grid(models, tests, out, settings), tests, out, title)
    except (ModelError, DatasetError, ValueError, OSError, KeyError) as exc:
        fail(str(exc))
    typer.echo(written[0].read_text(encoding="utf-8"))
    for path in written:
        typer.echo(f"wrote {path}")
