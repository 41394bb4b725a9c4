"""Prometheus metrics of a worker. The registry is passed in, so tests use a fresh one."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

NAMESPACE = "adsent"
OTHER_PLATFORM = "other"  # the platform label of every platform not named in ADSENT_METRICS_PLATFORMS
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
STEP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class Metrics:
    """Every metric adsent exports, following ``namespace_subsystem_name_unit``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages_in = Counter("stage_messages_in", "Messages read by a stage", ["stage"],
                                   namespace=NAMESPACE, registry=r)
        self.messages_out = Counter("stage_messages_out", "Events emitted by a stage", ["stage"],
                                    namespace=NAMESPACE, registry=r)
        self.messages_failed = Counter("stage_messages_failed", "Ads dead-lettered by a stage, by error code",
                                       ["stage", "code"], namespace=NAMESPACE, registry=r)
        self.retries = Counter("stage_retries", "Single-ad retries after a transient error", ["stage", "code"],
                               namespace=NAMESPACE, registry=r)
        self.duplicates = Counter("stage_duplicates_suppressed", "Redelivered ads whose result was already emitted",
                                  ["stage"], namespace=NAMESPACE, registry=r)
        self.batch_size = Histogram("stage_batch_size", "Ads per batch", ["stage"], buckets=BATCH_BUCKETS,
                                    namespace=NAMESPACE, registry=r)
        self.step_seconds = Histogram("stage_step_seconds", "Seconds per batch in each step (pre, infer, post)",
                                      ["stage", "step"], buckets=STEP_BUCKETS, namespace=NAMESPACE, registry=r)
        self.end_to_end = Histogram("end_to_end_seconds", "Seconds from upload time to the emitted AdSentiment",
                                    buckets=LATENCY_BUCKETS, namespace=NAMESPACE, registry=r)
        self.consumer_lag = Gauge("consumer_lag_messages", "Messages not yet read, per input partition",
                                  ["topic", "partition"], namespace=NAMESPACE, registry=r)
        self.sentiments = Counter("sentiments_emitted", "Attribute sentiments emitted, by label, dimension and "
                                  "platform", ["sentiment", "dimension", "platform"], namespace=NAMESPACE, registry=r)
        self.describe_overridden = Gauge(
            "describe_config_overridden", "1 for each describe setting served differently from the one the "
            "checkpoint was trained with (ADSENT_DESCRIBE_OVERRIDE)", ["setting"], namespace=NAMESPACE, registry=r)
        self.overall = Counter("overall_sentiments_emitted", "Overall ad sentiments emitted, by label and platform",
                               ["sentiment", "platform"], namespace=NAMESPACE, registry=r)
        self.model_info = Info("model", "Model version, backbones and device of this worker",
                               namespace=NAMESPACE, registry=r)
        self.ready = Gauge("worker_ready", "1 when the models are warm and the broker answers",
                           namespace=NAMESPACE, registry=r)


def platform_label(platform: str, named: Iterable[str]) -> str:
    """The ``platform`` label value of an ad: its platform lower-cased when ``named`` lists it (in any
    case), else ``other``, so the label has at most one value per named platform and one more."""
    key = platform.lower()
    return key if any(key == name.lower() for name in named) else OTHER_PLATFORM
