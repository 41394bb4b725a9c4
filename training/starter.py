"""The starter model: the ad corpus (adcorpus) train split, offline backbones, within a CPU time
budget; reused when cached.

Time on a 2-core CPU is spent describing images (about 0.3 CPU-s each with features) and
training. The starter trains on a documented sample: the first ``train_per_category`` training
ads (by id) of each category, and the first ``dev_per_category`` dev ads for early stopping;
``images_per_category`` can further limit which of them keep their image (the others train on
their copy alone: the S view, with an empty N_z and no visual prefix). Descriptions and features
are cached under the state dir, so a later run or a larger sample only describes what is new.
The full-corpus model is one command (README, "Training and evaluation": ``adsent train --dataset ads``).

The starter is keyed by a fingerprint of its configs, the corpus files and the describe
configuration; ``ensure_starter`` reuses a model whose fingerprint matches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from model.config import ModelConfig
from training.config import TrainConfig
from training.data.examples import JmasaExample

log = logging.getLogger(__name__)
FINGERPRINT_FILE = "starter.json"


@dataclass(frozen=True)
class StarterConfig:
    dataset: str = "ads"
    train_per_category: int = 40  # training ads per category: the sample the starter learns from (1,275 of 1,454)
    dev_per_category: int = 4  # dev ads per category scored for early stopping (114 of 178)
    # Every sampled ad keeps its image (the limits are for slower setups); dev ads keep theirs too,
    # so early stopping scores the fused view the workers serve.
    images_per_category: int = 1000
    max_length: int = 160  # ad copy (<= ~120 tokens) + N_z
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=5, batch_size=16, lr_pretrained=1e-4, lr_new=1e-3, freeze_layers=3, patience=2))


@dataclass(frozen=True)
class StarterResult:
    directory: Path
    reused: bool
    seconds: float
    metrics: dict[str, Any]
    message: str


def starter_model_config(settings: Any, config: StarterConfig) -> ModelConfig:
    model = ModelConfig.offline_default()
    return replace(model, text=replace(model.text, max_length=config.max_length))


def first_per_category(examples: list[JmasaExample], count: int) -> frozenset[str]:
    """Ids of the first ``count`` examples (by id) of each category."""
    by_category: dict[str, list[str]] = {}
    for example in examples:
        by_category.setdefault(example.category or "", []).append(example.example_id)
    return frozenset(i for ids in by_category.values() for i in sorted(ids)[:count])


def sample_filters(config: StarterConfig):  # noqa: ANN201
    """``(keep_example, keep_image)`` predicates of the starter's sample."""
    from training.data.bundled import BUNDLED

    data = BUNDLED[config.dataset]
    train, dev = data.load("train"), data.load("dev")
    kept = first_per_category(train, config.train_per_category) | first_per_category(dev, config.dev_per_category)
    with_image = (first_per_category(train, config.images_per_category)
                  | first_per_category(dev, config.images_per_category))
    return (lambda example: example.example_id in kept), (lambda example: example.example_id in with_image)


def fingerprint(settings: Any, config: StarterConfig, model: ModelConfig) -> str:
    from model.describe import DescribeConfig
    from training.data.bundled import BUNDLED
    from training.features import describe_key

    digest = hashlib.sha256()
    digest.update(json.dumps({"starter": asdict(config), "model": model.to_dict(),
                              "describe": describe_key(DescribeConfig.from_settings(settings))},
                             sort_keys=True, default=str).encode())
    data = BUNDLED[config.dataset]
    for split in ("train", "dev"):
        digest.update(data.path(split).read_bytes())
    return digest.hexdigest()[:20]


def ensure_starter(settings: Any, config: StarterConfig = StarterConfig(), force: bool = False,
                   progress: bool = True) -> StarterResult:
    """Train the starter model into ``settings.starter_model_dir``, or reuse it when its fingerprint matches."""
    from training.data.bundled import BUNDLED
    from training.runs import DataSpec, train_run

    started = time.perf_counter()
    target = Path(settings.starter_model_dir)
    model = starter_model_config(settings, config)
    key = fingerprint(settings, config, model)
    stamp = target / FINGERPRINT_FILE
    if not force and stamp.is_file():
        saved = json.loads(stamp.read_text())
        if saved.get("fingerprint") == key and (target / "model.safetensors").is_file():
            seconds = time.perf_counter() - started
            return StarterResult(target, True, seconds, saved.get("metrics", {}),
                                 f"reused the starter model in {target} (same config and data, trained "
                                 f"{saved.get('trained_at')}, {saved.get('seconds', 0):.0f} s); --force retrains")
    images = BUNDLED[config.dataset].ensure_images(Path(settings.state_dir))
    keep_example, keep_image = sample_filters(config)
    run_dir = Path(settings.state_dir) / "starter-runs" / key
    if run_dir.exists():
        shutil.rmtree(run_dir)
    result = train_run(model, config.train, DataSpec(config.dataset, None, images), run_dir, settings,
                       progress=progress, evaluate_test=False, image_filter=keep_image, example_filter=keep_example)
    staging = target.with_name(target.name + ".new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(run_dir / "best", staging)
    seconds = time.perf_counter() - started
    summary = result.get("summary", {})
    (staging / FINGERPRINT_FILE).write_text(json.dumps(
        {"fingerprint": key, "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": seconds,
         "run_dir": str(run_dir), "metrics": {"best_dev_jmasa_f1": summary.get("best_dev_jmasa_f1"),
                                              "best_epoch": summary.get("best_epoch")},
         "config": asdict(config)}, indent=2, default=str))
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return StarterResult(target, False, seconds, summary,
                         f"trained the starter model in {seconds:.0f} s into {target} (dev JMASA F1 "
                         f"{summary.get('best_dev_jmasa_f1', 0):.3f}; run directory {run_dir})")
