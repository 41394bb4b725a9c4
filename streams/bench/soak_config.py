"""Every duration, rate and threshold of a soak, and the rate taken from an ``adsent bench`` result."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from streams.bench.config import BenchConfig
from streams.bench.growth import MIN_POINTS


@dataclass(frozen=True)
class SoakConfig:
    """What one soak runs and when it fails. Thresholds are per minute of the judged span."""

    duration_s: float = 600.0  # seconds of publishing
    load: float = 0.8  # share of the bench's 1-worker end-to-end rate, when no rate is given
    interval_s: float = 10.0  # seconds between samples
    judge_from: float = 0.5  # growth is judged on samples after this share of the duration (warm-up before)
    max_lag_slope_per_min: float = 10.0  # committed lag (all input topics) may grow this fast ...
    max_final_lag: float = 50.0  # ... or end this high, not both
    max_rss_slope_mb_per_min: float = 2.0  # worker RSS may grow this fast ...
    max_rss_rise_mb: float = 10.0  # ... or rise this much over the judged span, not both
    drain_timeout_s: float = 300.0  # longest wait, after publishing, for every ad's result or dead letter
    own_broker: bool = True  # a fresh embedded broker of the soak's own; else the configured cluster
    threads: int = BenchConfig.threads  # torch and onnxruntime threads of the worker
    warmup_ads: int = BenchConfig.warmup_ads  # ads through the worker before the clock starts
    worker_ready_timeout_s: float = BenchConfig.worker_ready_timeout_s
    collector_poll_pause_ms: int = BenchConfig.collector_poll_pause_ms

    @property
    def judge_from_s(self) -> float:
        return self.judge_from * self.duration_s

    def ads(self, rate: float) -> int:
        """The bounded number of ads published: rate times duration."""
        return max(1, round(rate * self.duration_s))

    def check(self, rate: float) -> None:
        """Refuse a soak that could not judge growth (too few samples after the warm-up)."""
        from streams.bench.inprocess import BenchError

        if rate <= 0 or self.duration_s <= 0 or self.interval_s <= 0:
            raise BenchError("rate, duration and interval must be positive")
        judged = math.floor(self.duration_s * (1 - self.judge_from) / self.interval_s)
        if judged < MIN_POINTS:
            raise BenchError(f"only {judged} samples would be judged; growth needs {MIN_POINTS}: lengthen "
                             f"--duration or shorten --interval")


def bench_rate(result_file: Path) -> float:
    """The end-to-end rate of one all-stages worker in an ``adsent bench`` result file."""
    from streams.bench.inprocess import BenchError

    if not result_file.is_file():
        raise BenchError(f"no bench result at {result_file}: run `adsent bench --quick --out {result_file.parent}` "
                         "first, or give --rate")
    pipeline = json.loads(result_file.read_text()).get("pipeline", {})
    rate = (pipeline.get("throughput_by_workers") or {}).get("1")
    if not rate:
        raise BenchError(f"{result_file} has no end-to-end rate for 1 worker (run without --no-end-to-end), "
                         "or give --rate")
    return float(rate)
