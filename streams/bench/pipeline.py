"""End to end through the real broker: sustained throughput with N workers, latency under an open-loop load."""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from schemas import AdUploaded, encode
from schemas.pipeline import ALL_STAGES
from schemas.settings import Settings
from streams.bench.config import BenchConfig
from streams.bench.cpu_account import CpuAccount
from streams.bench.inprocess import BenchError, percentile
from streams.bench.inputs import bench_ads
from streams.bench.processes import BenchWorker
from streams.ops.worker_process import stop_all

log = logging.getLogger(__name__)


def phase_settings(base: Settings, name: str, workers: int) -> Settings:
    """Topics and consumer group of this phase alone, with at least one partition per worker."""
    topics = {f"topic_{kind}": f"bench-{name}.ads.{kind}" for kind in ("uploaded", "described", "features",
                                                                        "sentiment", "deadletter")}
    partitions = {f"partitions_{kind}": max(getattr(base, f"partitions_{kind}"), workers)
                  for kind in ("uploaded", "described", "features", "sentiment")}
    return base.model_copy(update={**topics, **partitions, "kafka_consumer_group": f"adsent-bench-{name}"})


class Collector:
    """Follows results in a thread: arrival time and end-to-end latency of every ad, dead letters counted."""

    def __init__(self, settings: Settings, poll_pause_ms: int) -> None:
        from streams.ops.client import Follower

        # A longer pause than the workers': the follower is the load generator, not the system measured,
        # and every CPU second it spends is taken from the workers on a small machine.
        quiet = settings.model_copy(update={"kafka_empty_fetch_backoff_ms": poll_pause_ms})
        self.follower = Follower(quiet)  # created before anything is published
        self.arrivals: dict[str, float] = {}
        self.latencies: dict[str, float] = {}
        self.dead: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for outcome in self.follower.outcomes(timeout_s=0.5):
                if outcome.result is not None and outcome.ad_id not in self.arrivals:
                    self.arrivals[outcome.ad_id] = time.monotonic()
                    self.latencies[outcome.ad_id] = outcome.result.end_to_end_seconds
                elif outcome.dead_letter is not None:
                    self.dead[outcome.ad_id] = outcome.dead_letter.code
                if self._stop.is_set():
                    break

    def wait(self, ad_ids: set[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not ad_ids <= (set(self.arrivals) | set(self.dead)):
            if time.monotonic() > deadline:
                missing = len(ad_ids - set(self.arrivals) - set(self.dead))
                raise BenchError(f"{missing} of {len(ad_ids)} ads had no result after {timeout_s:.0f} s")
            time.sleep(0.1)
        if ad_ids & set(self.dead):
            codes = sorted({self.dead[a] for a in ad_ids & set(self.dead)})
            raise BenchError(f"{len(ad_ids & set(self.dead))} ads were dead-lettered ({', '.join(codes)})")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.follower.close()


def steady_rate(arrivals: Sequence[float], trim: float = 0.1) -> float:
    """Completions per second between the first and last ``trim`` share of arrivals (fill and drain left out)."""
    times = sorted(arrivals)
    if len(times) < 3:
        raise BenchError("too few results to measure a rate")
    lo, hi = int(len(times) * trim), max(int(len(times) * (1 - trim)) - 1, int(len(times) * trim) + 1)
    hi = min(hi, len(times) - 1)
    return (hi - lo) / max(times[hi] - times[lo], 1e-9)


def publish_at_rate(settings: Settings, ads: Sequence[AdUploaded], rate: float) -> float:
    """Open loop: send ad k at start + k / rate, stamping its upload time at send; returns the achieved rate."""
    from kafka import KafkaProducer

    from streams.service.kafka_config import producer_options

    producer = KafkaProducer(**producer_options(settings))
    try:
        start = time.monotonic()
        for k, ad in enumerate(ads):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            stamped = ad.model_copy(update={"uploaded_at": datetime.now(timezone.utc)})
            producer.send(settings.topic_uploaded, key=ad.ad_id.encode(), value=encode(stamped))
        producer.flush()
        return len(ads) / max(time.monotonic() - start, 1e-9)
    finally:
        producer.close()


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    return {"latency_p50_s": percentile(latencies, 50), "latency_p95_s": percentile(latencies, 95),
            "latency_p99_s": percentile(latencies, 99)}


def timed_burst(settings: Settings, collector: Collector, ads: list[AdUploaded], config: BenchConfig,
                account: CpuAccount) -> dict:
    """Publish ``ads`` at once and wait for all; the sustained rate and the CPU each process spent per ad."""
    from streams.ops.client import publish

    account.start()
    started = time.monotonic()
    publish(settings, ads)
    collector.wait({a.ad_id for a in ads}, config.result_timeout_s)
    cpu = account.stop(len(ads), time.monotonic() - started, os.cpu_count() or 1)
    return {"throughput_ads_per_s": steady_rate([collector.arrivals[a.ad_id] for a in ads]), "burst_ads": len(ads),
            "cpu": cpu}


def profiled_burst(settings: Settings, collector: Collector, ads: list[AdUploaded], config: BenchConfig,
                   worker: BenchWorker, work: Path) -> dict:
    """An extra burst with py-spy sampling the worker (sampling costs CPU: the timed burst runs without it)."""
    from streams.bench.profile import Profiler, summarize

    profiler = Profiler(worker.process.pid, work / "profile-worker.txt", config.profile_rate_hz)
    try:
        timed = timed_burst(settings, collector, ads, config, CpuAccount({}))
    finally:
        path = profiler.stop()
    return {"file": str(path), "throughput_ads_per_s": timed["throughput_ads_per_s"], **summarize(path)}


def run_phase(base: Settings, workers: int, pool: list, config: BenchConfig, work: Path, run: int,
              latency: bool, profile: bool, broker_pid: int | None = None) -> dict:
    """Start ``workers`` all-stages workers and measure the sustained rate of one burst; then, if asked,
    latency at fractions of that rate and a sampled profile."""
    from streams.ops.client import publish
    from streams.service.connect import prepare_cluster

    settings = phase_settings(base, f"w{workers}-{run}-{int(time.time())}", workers)
    prepare_cluster(settings)
    procs = [BenchWorker(settings, ALL_STAGES, work / f"worker-{workers}-{run}-{i}.log", config.threads)
             for i in range(workers)]
    collector = None
    try:
        for proc in procs:
            proc.wait_ready(config.worker_ready_timeout_s)
        collector = Collector(settings, config.collector_poll_pause_ms)
        warm = list(bench_ads(config.warmup_ads * workers, f"warm{workers}", pool))
        publish(settings, warm)  # partitions assigned and first batches through before timing
        collector.wait({a.ad_id for a in warm}, config.result_timeout_s)
        account = CpuAccount({**{f"worker{i}": p.process.pid for i, p in enumerate(procs)}, "broker": broker_pid})
        burst = timed_burst(settings, collector, list(bench_ads(config.e2e_burst_ads, f"burst{workers}", pool)),
                            config, account)
        rate = burst["throughput_ads_per_s"]
        result: dict = {"workers": workers, **burst, "loads": []}
        log.info("%d worker(s), run %d: %.2f ads/s sustained", workers, run + 1, rate)
        if profile:
            result["profile"] = profiled_burst(settings, collector, list(bench_ads(
                config.e2e_burst_ads, f"profile{workers}", pool)), config, procs[0], work)
        for fraction in config.e2e_rate_fractions if latency else ():
            target = fraction * rate
            ads = list(bench_ads(max(3, int(target * config.e2e_open_loop_s)), f"open{workers}-{fraction}", pool))
            achieved = publish_at_rate(settings, ads, target)
            collector.wait({a.ad_id for a in ads}, config.result_timeout_s)
            summary = latency_summary([collector.latencies[a.ad_id] for a in ads])
            result["loads"].append({"fraction": fraction, "rate_ads_per_s": achieved, "ads": len(ads), **summary})
            log.info("%d worker(s) at %.0f%%: p50 %.2f s, p99 %.2f s", workers, fraction * 100,
                     summary["latency_p50_s"], summary["latency_p99_s"])
        result["peak_rss_mb"] = [proc.peak_rss_mb() for proc in procs]
        return result
    finally:
        if collector is not None:
            collector.close()
        stop_all(procs)


def merge_runs(runs: list[dict]) -> dict:
    """One worker count's runs as one phase: the median rate, the mean CPU per ad, the loads and profile
    of the run that measured them, the highest peak RSS per worker."""
    cpu = {name: statistics.fmean(r["cpu"]["cpu_seconds_per_ad"].get(name, 0.0) for r in runs)
           for name in runs[0]["cpu"]["cpu_seconds_per_ad"]}
    merged = {"workers": runs[0]["workers"], "burst_ads": runs[0]["burst_ads"],
              "throughput_ads_per_s": statistics.median(r["throughput_ads_per_s"] for r in runs),
              "bursts_ads_per_s": [r["throughput_ads_per_s"] for r in runs],
              "cpu": {"cpu_seconds_per_ad": cpu,
                      "machine_busy_share": statistics.fmean(r["cpu"]["machine_busy_share"] for r in runs)},
              "loads": [load for r in runs for load in r["loads"]],
              "peak_rss_mb": [max(values) for values in zip(*(r["peak_rss_mb"] for r in runs))]}
    profile = next((r["profile"] for r in runs if r.get("profile")), None)
    return merged | ({"profile": profile} if profile else {})


def run_end_to_end(base: Settings, pool: list, config: BenchConfig, work: Path) -> dict:
    """Every worker count in turn, ``burst_repeats`` runs each, every run with a fresh embedded broker.

    Fresh, because the embedded broker's CPU per megabyte written grows with the data it holds
    (0.28 CPU-s per 15 MB when empty, about 1.9 once it held 75 MB): bursts on one broker got slower
    one after another (3.98, 3.72, 3.63 ads/s), measuring the broker's history, not the service.
    """
    phases = []
    for i, workers in enumerate(config.e2e_worker_counts):
        runs = []
        for run in range(config.burst_repeats):
            with phase_broker(base, work / f"state-{workers}-{run}") as (settings, broker_pid):
                runs.append(run_phase(settings, workers, pool, config, work, run, broker_pid=broker_pid,
                                      latency=run == 0 and (i == 0 or config.e2e_open_loop_all),
                                      profile=run == 0 and config.profile and workers == 1))
        phases.append(merge_runs(runs))
    return {"phases": phases}


@contextmanager
def phase_broker(base: Settings, state_dir: Path) -> Iterator[tuple[Settings, int | None]]:
    """An embedded broker on a free loopback port with its data under ``state_dir``; settings to reach it."""
    from streams.devbroker import EmbeddedBroker
    from streams.ops.worker_process import free_port

    settings = base.model_copy(update={"state_dir": state_dir, "broker_port": free_port(),
                                       "broker_host": "127.0.0.1", "kafka_bootstrap_servers": None})
    broker = EmbeddedBroker.from_settings(settings)
    try:
        broker.up()
        yield settings, broker.pid()
    finally:
        broker.down()
