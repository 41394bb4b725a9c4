"""Every count, size and duration of a benchmark run, in one frozen dataclass (quick and full)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchConfig:
    """What one ``adsent bench`` run measures and how long each measurement lasts."""

    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    describe_batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    min_ads_per_point: int = 32  # ads timed per (stage, batch size) point, at least one batch
    describe_ads_per_point: int = 32
    threads: int = 1  # torch and onnxruntime threads per process (the per-process model of the workers)
    matmul_side: int = 1024
    matmul_repeats: int = 20
    view_repeats: int = 20  # repeats of the S / S+N forward timing
    scaling_ads: int = 24  # ads each describe process handles in the 1- and 2-process runs
    rss_ads: int = 8  # ads each single-role probe handles before its peak RSS is read
    end_to_end: bool = True
    e2e_burst_ads: int = 48  # ads published at once to measure the sustained (maximum) rate; also the ads of
    # each in-process pipeline run it is compared with (the same count: the same fill and drain)
    burst_repeats: int = 3  # runs per worker count, each on a fresh broker (and in-process pipeline runs); medians kept
    e2e_rate_fractions: tuple[float, ...] = (0.5, 0.9)
    e2e_open_loop_s: float = 40.0  # seconds of publishing at a fixed rate
    e2e_worker_counts: tuple[int, ...] = (1, 2)
    e2e_open_loop_all: bool = True  # open-loop latency for every worker count (else the first only)
    worker_ready_timeout_s: float = 300.0
    result_timeout_s: float = 300.0  # longest wait for the last result of a phase
    warmup_ads: int = 2
    collector_poll_pause_ms: int = 50  # the result follower's pause after an empty poll (arrival times to ~50 ms)
    profile: bool = False  # sample the 1-worker phase with py-spy during an extra burst
    profile_rate_hz: int = 100

    @classmethod
    def quick(cls) -> "BenchConfig":
        """A few minutes on a 2-core CPU: fewer batch sizes and ads, shorter open-loop runs."""
        return cls(batch_sizes=(1, 4, 16, 32), describe_batch_sizes=(1, 4), min_ads_per_point=32,
                   describe_ads_per_point=8, matmul_repeats=10, view_repeats=8, scaling_ads=20, rss_ads=4,
                   e2e_burst_ads=40, e2e_open_loop_s=15.0, e2e_worker_counts=(1, 2), e2e_open_loop_all=False)
