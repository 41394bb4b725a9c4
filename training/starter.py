"""The starter model: ads-mini train, offline backbones, within a CPU time budget; reused when cached.

Time on a 2-core CPU is spent describing images (about 0.2 CPU-s each) and training. The starter
can limit the images to the first ``images_per_category`` ads of each category (the others train
on their copy alone: the S view, with an empty N_z and no visual prefix); by default every ad
keeps its image. Descriptions and features are cached under the state dir, so a later run or a
larger subset only describes what is new.

The starter is keyed by a fingerprint of its configs, the ads-mini files and the describe
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
    # With describe at ~0.2 CPU-s per ad, every ad keeps its image (the limits are for slower setups);
    # dev ads keep theirs too, so early stopping scores the fused view the workers serve.
    images_per_category: int = 1000  # training ads per category that keep their image
    dev_images_per_category: int = 1000  # dev ads per category scored with their image
    max_length: int = 128  # ad copy (<= ~75 tokens in ads-mini) + N_z
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=6, batch_size=16, lr_pretrained=1e-4, lr_new=1e-3, freeze_layers=3, patience=2))


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


def kept_image_ids(config: StarterConfig) -> frozenset[str]:
    """Ids of the ads that keep their image: the first N (by id) of each category in train and dev."""
    from training.data.ads_mini import load_ads_mini

    kept: set[str] = set()
    for split, count in (("train", config.images_per_category), ("dev", config.dev_images_per_category)):
        by_category: dict[str, list[str]] = {}
        for example in load_ads_mini(split):
            by_category.setdefault(example.category or "", []).append(example.example_id)
        for ids in by_category.values():
            kept.update(sorted(ids)[:count])
    return frozenset(kept)


def image_filter(config: StarterConfig):  # noqa: ANN201
    kept = kept_image_ids(config)
    return lambda example: example.example_id in kept


def fingerprint(settings: Any, config: StarterConfig, model: ModelConfig) -> str:
    from model.describe import DescribeConfig
    from training.data.ads_mini import ADS_MINI_DIR, SPLITS
    from training.features import describe_key

    digest = hashlib.sha256()
    digest.update(json.dumps({"starter": asdict(config), "model": model.to_dict(),
                              "describe": describe_key(DescribeConfig.from_settings(settings))},
                             sort_keys=True, default=str).encode())
    for split in SPLITS:
        digest.update((ADS_MINI_DIR / f"{split}.jsonl").read_bytes())
    return digest.hexdigest()[:20]


def ensure_starter(settings: Any, config: StarterConfig = StarterConfig(), force: bool = False,
                   progress: bool = True) -> StarterResult:
    """Train the starter model into ``settings.starter_model_dir``, or reuse it when its fingerprint matches."""
    from training.runs import DataSpec, ensure_ads_mini_images, train_run

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
    images = ensure_ads_mini_images(Path(settings.state_dir) / "ads_mini_images")
    run_dir = Path(settings.state_dir) / "starter-runs" / key
    if run_dir.exists():
        shutil.rmtree(run_dir)
    result = train_run(model, config.train, DataSpec("ads-mini", None, images), run_dir, settings,
                       progress=progress, evaluate_test=False, image_filter=image_filter(config))
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
