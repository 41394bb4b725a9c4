"""Settings and worker processes for end-to-end tests on the shared test broker."""

from __future__ import annotations

from pathlib import Path

from schemas.settings import Settings
from streams.ops.worker_process import WorkerProcess


def pipeline_settings(broker: Settings, name: str, **overrides: object) -> Settings:
    """Settings on the shared test broker with topics and consumer groups of this test alone."""
    topics = {f"topic_{kind}": f"{name}.ads.{kind}" for kind in ("uploaded", "described", "features", "sentiment",
                                                                 "deadletter")}
    return broker.model_copy(update={**topics, "kafka_consumer_group": f"adsent-{name}", "partitions_uploaded": 2,
                                     "partitions_described": 2, "partitions_features": 2, "partitions_sentiment": 2,
                                     "describe_max_batch": 4, "retry_backoff_s": 0.05,
                                     "allow_untrained_model": True, **overrides})


def start_worker(settings: Settings, stages: str, log_dir: Path, name: str = "worker") -> WorkerProcess:
    """An `adsent worker` subprocess on these settings, logging to ``log_dir/<name>.log``."""
    return WorkerProcess(settings, stages, log_dir / f"{name}.log")
