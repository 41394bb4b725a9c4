"""One training run end to end (data -> images -> trainer -> run directory) and checkpoint evaluation."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from model.config import ModelConfig
from model.predict import AdSentimentModel
from model.vision import default_device
from schemas.logs import LOG_FORMAT
from training.batches import Prepared, attach_images
from training.config import TrainConfig
from training.data.bundled import BUNDLED
from training.data.examples import JmasaExample
from training.evaluation import predict_prepared, prediction_rows, score
from training.metrics import Metrics, format_table, write_report
from training.trainer import Trainer, seed_everything

log = logging.getLogger(__name__)
DatasetName = Literal["twitter", "jsonl", "unified", "ads", "ads-mini"]


@dataclass(frozen=True)
class DataSpec:
    """Where a data set lives: ``data_dir`` holds {train,dev,test}.{txt,tsv,jsonl} (``unified``: the
    E2E-ABSA tag format, text only); ``images_dir`` its images."""

    dataset: DatasetName
    data_dir: Path | None = None
    images_dir: Path | None = None

    def __post_init__(self) -> None:
        known = ("twitter", "jsonl", "unified", *BUNDLED)
        if self.dataset not in known:
            raise ValueError(f"unknown data set {self.dataset!r}; choose from {', '.join(known)}")

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "data_dir": str(self.data_dir) if self.data_dir else None,
                "images_dir": str(self.images_dir) if self.images_dir else None}

    def test_splits(self) -> tuple[str, ...]:
        """The evaluation splits scored at the end of a run: every test split of a bundled set, else test."""
        if self.dataset in BUNDLED:
            return tuple(s for s in BUNDLED[self.dataset].splits if s.startswith("test"))
        return ("test",)

    def test_sets(self) -> list[tuple[str, list[JmasaExample]]]:
        """``(name, examples)`` of the test splits: ``test``, ``test_category``, ..."""
        return [(split, self.load(split)) for split in self.test_splits()]

    def load(self, split: str) -> list[JmasaExample]:
        if self.dataset in BUNDLED:
            return BUNDLED[self.dataset].load(split, self.images_dir)
        if self.data_dir is None:
            raise ValueError(f"--data-dir is required for the {self.dataset} data set")
        if self.dataset == "jsonl":
            from training.data import load_jsonl

            return load_jsonl(self.data_dir / f"{split}.jsonl", self.images_dir)
        if self.dataset == "unified":
            from training.data.unified import load_unified

            return load_unified(self.data_dir / f"{split}.txt")
        from training.data import load_twitter

        fmt = "txt" if (self.data_dir / f"{split}.txt").is_file() else "tsv"
        return load_twitter(self.data_dir, split, fmt, self.images_dir)


def feature_cache(settings: Any, config: ModelConfig, device: str | None,
                  checkpoint: Path | None = None):  # noqa: ANN201
    """Descriptions and features under the state dir. Training describes with the settings; a
    trained checkpoint is evaluated with the describe configuration it was trained with."""
    from model.describe import DescribeConfig
    from model.describe.parity import serving_describe_config
    from training.features import FeatureCache

    describe = DescribeConfig.from_settings(settings) if checkpoint is None else \
        serving_describe_config(settings, checkpoint)[0]
    return FeatureCache(settings.state_dir / "cache" / "features", describe, config.vision, device)


def prepare(examples: list[JmasaExample], config: ModelConfig, cache: Any, teacher: Any = None) -> list[Prepared]:
    """Examples with descriptions, features and teacher rows; text-only (none of them) when ``cache`` is None.

    One cache serves every split of a run, so its image models load once.
    """
    if cache is None:
        return [Prepared(e) for e in examples]
    return attach_images(examples, config, cache, teacher)


def add_file_log(run_dir: Path) -> logging.Handler:
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    return handler


def train_run(model_config: ModelConfig, train_config: TrainConfig, spec: Any, out: Path, settings: Any,
              teacher_file: Path | None = None, resume: bool = False, progress: bool = True,
              evaluate_test: bool = True, image_filter: Any = None, example_filter: Any = None,
              encoder_layers: int | None = None) -> dict[str, Any]:
    """Train, keep the best checkpoint in ``out/best``, fit its confidence temperatures on dev
    (``calibration.json``), evaluate it on test; returns metrics.json's content.

    ``spec`` is a :class:`DataSpec` or a :class:`training.mixture.Mixture` (several data sets,
    weighted; dev selection on the weighted per-part dev F1, a test report per part and split).

    ``example_filter(example) -> bool`` keeps only some training/dev examples and
    ``image_filter(example) -> bool`` the image of only some of them (the others train text-only):
    the starter model uses them to stay within its time budget.
    ``encoder_layers`` keeps only the lowest N layers of the text encoder (the depth sweep).
    """
    out = Path(out)
    handler = add_file_log(out)
    try:
        started = time.perf_counter()
        seed_everything(train_config.seed, train_config.deterministic)
        device = default_device(getattr(settings, "device", "auto"))
        if train_config.deterministic:
            device = torch.device("cpu")
        text_only = train_config.text_only
        model_config = run_model_config(model_config, train_config)
        (out / "config.json").write_text(json.dumps(
            {"model": model_config.to_dict(), "train": train_config.to_dict(),
             "data": spec.to_dict(),
             "teacher_file": str(teacher_file) if teacher_file else None}, indent=2))
        splits = {name: spec.load(name) for name in ("train", "dev")}
        if not text_only and not any(example.image_path for example in splits["train"]):
            log.info("no training example has an image: every example trains on its text alone (the S view)")
        if train_config.max_examples:
            splits["train"] = splits["train"][: train_config.max_examples]
        if train_config.max_eval_examples:
            splits["dev"] = splits["dev"][: train_config.max_eval_examples]
        if example_filter is not None:
            splits = {k: [e for e in v if example_filter(e)] for k, v in splits.items()}
        if image_filter is not None:
            splits = {k: [e if image_filter(e) else _without_image(e) for e in v] for k, v in splits.items()}
        model = build_model(model_config, encoder_layers)
        torch.manual_seed(train_config.seed)
        teacher = None
        needs_images = not text_only and any(e.image_path for v in splits.values() for e in v)
        if needs_images and model_config.ablation.use_anp and train_config.loss.omega > 0:
            from training.teacher import build_teacher

            teacher = build_teacher(teacher_file)
        prep_start = time.perf_counter()
        cache = None if text_only else feature_cache(settings, model_config, device.type)
        prepared = {k: prepare(v, model_config, cache, teacher) for k, v in splits.items()}
        prep_seconds = time.perf_counter() - prep_start
        trainer = Trainer(model.network, model.tokenizer, train_config, out, device, progress,
                          model_version=f"adsent-{spec.dataset}-{time.strftime('%Y%m%d')}")
        steps_per_epoch = -(-len(prepared["train"]) // train_config.batch_size)
        if resume and (out / "last" / "trainer_state.pt").is_file():
            trainer.resume(out / "last", steps_per_epoch)
        summary = trainer.fit(prepared["train"], prepared["dev"], getattr(spec, "weights", None))
        if cache is not None and needs_images:  # what N_z was made with, for serving (train/serve parity)
            from model.describe.parity import save_describe_record

            for kept in ("best", "last"):
                if (out / kept).is_dir():
                    save_describe_record(out / kept, cache.describe_config)
        summary["prepare_seconds"] = prep_seconds
        result: dict[str, Any] = {"summary": summary}
        if prepared["dev"] or evaluate_test:
            best = AdSentimentModel.from_pretrained(out / "best", device=device)
        if prepared["dev"]:
            from training.calibration import calibrate

            # sets the fitted temperatures on ``best`` too, so the test scores below use them
            summary["calibration"] = calibrate(best, out / "best", calibration_split(spec, prepared["dev"]),
                                               text_only, train_config.eval_batch_size)
        if evaluate_test:
            result.update(score_test_sets(best, spec, cache, train_config, out))
        summary["total_seconds"] = time.perf_counter() - started
        trainer.write_metrics(summary, {k: v for k, v in result.items() if k != "summary"})
        log.info("run %s done in %.1f s", out, summary["total_seconds"])
        return json.loads((out / "metrics.json").read_text())
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def run_model_config(model_config: ModelConfig, train_config: TrainConfig) -> ModelConfig:
    """The model configuration a run trains: text-only runs have no ANP task (no image to teach it)."""
    return model_config.with_ablation(use_anp=False) if train_config.text_only else model_config


def score_test_sets(model: AdSentimentModel, spec: Any, cache: Any, train_config: TrainConfig, out: Path,
                    meta: dict[str, Any] | None = None) -> dict[str, Metrics]:
    """``model`` on every test split of ``spec`` (capped at ``max_eval_examples``), each report
    written to ``out/<split>_metrics.json``; ``{split: metrics}``."""
    scores: dict[str, Metrics] = {}
    for name, test in spec.test_sets():
        if train_config.max_eval_examples:
            test = test[: train_config.max_eval_examples]
        scores[name] = evaluate_prepared(model, prepare(test, model.config, cache), train_config.text_only,
                                         train_config.eval_batch_size)
        write_report(scores[name], out / f"{name}_metrics.json", {"dataset": spec.dataset, "split": name, **(meta or {})})
    return scores


def calibration_split(spec: Any, dev: list[Prepared]) -> list[Prepared]:
    """The dev examples the confidence temperatures are fitted on: a mixture's ``calibrate_on``
    part (the domain the model will serve), else all of dev."""
    part = getattr(spec, "calibrate_on", None)
    if part is None:
        return dev
    from training.mixture import part_of

    return [item for item in dev if part_of(item.example) == part]


def build_model(config: ModelConfig, encoder_layers: int | None = None) -> AdSentimentModel:
    """Pretrained backbones and fresh heads; the encoder cut to its lowest ``encoder_layers`` layers."""
    if encoder_layers is None:
        return AdSentimentModel.from_config(config, device="cpu")
    from model.fusion.encoder import load_text_encoder
    from model.fusion.network import FusionNetwork

    encoder, tokenizer = load_text_encoder(config.text)
    total = encoder.config.num_hidden_layers
    if not 1 <= encoder_layers <= total:
        raise ValueError(f"encoder depth {encoder_layers} is outside 1..{total}")
    encoder.encoder.layer = encoder.encoder.layer[:encoder_layers]
    encoder.config.num_hidden_layers = encoder_layers
    torch.manual_seed(0)
    network = FusionNetwork(config, encoder)
    return AdSentimentModel(config, network, tokenizer, f"untrained-{config.text.encoder}-L{encoder_layers}", "cpu")


def _without_image(example: JmasaExample) -> JmasaExample:
    from dataclasses import replace

    return replace(example, image_path=None)


def evaluate_prepared(model: AdSentimentModel, prepared: list[Prepared], text_only: bool,
                      batch_size: int = 32, progress: bool = False,
                      predictions_path: Path | None = None) -> Metrics:
    """Metrics of ``model`` on prepared examples; with ``predictions_path``, every example's gold and
    predicted spans as JSON lines (:func:`training.evaluation.prediction_rows`)."""
    spans, overall, confidence = predict_prepared(model.network, model.views, model.config, prepared, batch_size,
                                                  text_only, model.device, progress)
    if predictions_path is not None:
        rows = prediction_rows(prepared, spans, overall)
        Path(predictions_path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")
    return score(prepared, spans, overall, confidence)


def load_prepared(checkpoint: Path, spec: DataSpec, split: str, settings: Any,
                  text_only: bool) -> tuple[AdSentimentModel, list[Prepared]]:
    """A checkpoint and one split of ``spec``, prepared for it (images described unless text only)."""
    device = default_device(getattr(settings, "device", "auto"))
    model = AdSentimentModel.from_pretrained(checkpoint, device=device)
    cache = None if text_only else feature_cache(settings, model.config, device.type, checkpoint)
    return model, prepare(spec.load(split), model.config, cache)


def evaluate_checkpoint(checkpoint: Path, spec: DataSpec, split: str, settings: Any, json_path: Path | None,
                        text_only: bool = False, batch_size: int = 32, progress: bool = True,
                        predictions_path: Path | None = None) -> Metrics:
    """Metrics of a checkpoint on one split; writes the report JSON when ``json_path`` is given and
    every example's gold and predicted spans when ``predictions_path`` is."""
    model, prepared = load_prepared(checkpoint, spec, split, settings, text_only)
    metrics = evaluate_prepared(model, prepared, text_only, batch_size, progress, predictions_path)
    if json_path is not None:
        write_report(metrics, json_path, {"checkpoint": str(checkpoint), "dataset": spec.dataset, "split": split,
                                          "model_version": model.model_version})
    log.debug("\n%s", format_table(metrics))
    return metrics
