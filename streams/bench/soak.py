"""A bounded soak: one all-stages worker under a steady open-loop load; lag, RSS and latency sampled.

    adsent bench soak [--rate R | --load 0.8] [--duration 600] [--out runs/bench]
    python -m streams.bench.soak ...          (the same command and options)

It publishes rate x duration ads at a steady pace, samples every ``interval_s``, then waits
(bounded) until every ad has a result or a dead letter, and judges growth (``streams.bench.growth``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from schemas import AdUploaded
from schemas.settings import Settings
from streams.bench.inputs import bench_ads
from streams.bench.pipeline import Collector, latency_summary, phase_broker, publish_at_rate
from streams.bench.processes import BenchWorker
from streams.bench.soak_config import SoakConfig
from streams.bench.soak_report import accounting, verdict
from streams.bench.soak_sample import LagProbe, rss_mb, window_latency
from streams.ops.worker_process import WorkerProcessError, stop_all

log = logging.getLogger(__name__)
POLL_S = 0.5  # how often the loop checks the worker, the publisher and the drain between samples

Echo = Callable[[str], None]


class PacedAds:
    """The soak's uploads, made as the publisher takes them (memory stays flat), until :meth:`stop`."""

    def __init__(self, count: int, prefix: str, pool: list) -> None:
        self.count, self.prefix, self.pool = count, prefix, pool
        self.ids: list[str] = []  # handed to the publisher, in order: each is sent before the next is taken
        self._stop = threading.Event()

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[AdUploaded]:
        for ad in bench_ads(self.count, self.prefix, self.pool):
            if self._stop.is_set():
                return
            self.ids.append(ad.ad_id)
            yield ad

    def stop(self) -> None:
        self._stop.set()


class Publisher(threading.Thread):
    """``publish_at_rate`` in a thread, so the soak samples while it sends."""

    def __init__(self, settings: Settings, ads: PacedAds, rate: float) -> None:
        super().__init__(name="soak-publisher", daemon=True)
        self.settings, self.ads, self.rate = settings, ads, rate
        self.error: BaseException | None = None
        self.seconds: float | None = None

    def run(self) -> None:
        started = time.monotonic()
        try:
            publish_at_rate(self.settings, self.ads, self.rate)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported as a failure of the soak
            self.error = exc
        self.seconds = time.monotonic() - started


class Sampler:
    """One row of the time series: results and latency of the window since the last row, lag, RSS."""

    def __init__(self, collector: Collector, probe: LagProbe, ads: PacedAds, worker_pid: int,
                 broker_pid: int | None, t0: float) -> None:
        self.collector, self.probe, self.ads = collector, probe, ads
        self.worker_pid, self.broker_pid, self.t0 = worker_pid, broker_pid, t0
        self.last = t0

    def sample(self, phase: str) -> dict:
        now = time.monotonic()
        arrivals, dead, ids = dict(self.collector.arrivals), dict(self.collector.dead), set(self.ads.ids)
        window = window_latency(arrivals, self.collector.latencies, self.last, now)
        lag = self.probe.read()
        row = {"t_s": round(now - self.t0, 1), "phase": phase, "published": len(ids),
               "results": len(ids & arrivals.keys()), "dead_letters": len(ids & dead.keys() - arrivals.keys()),
               "results_per_s": round(window["window_results"] / max(now - self.last, 1e-9), 3),
               "lag": sum(lag.values()) if lag is not None else None, "lag_by_topic": lag,
               "rss_mb": rss_mb(self.worker_pid), "broker_rss_mb": rss_mb(self.broker_pid), **window}
        self.last = now
        return row

    def accounted(self) -> bool:
        """Every ad published so far has a result or a dead letter."""
        done = self.collector.arrivals.keys() | self.collector.dead.keys()
        return set(self.ads.ids) <= done


def progress(row: dict, duration_s: float) -> str:
    lag = "-" if row["lag"] is None else row["lag"]
    p50, p99 = row["latency_p50_s"], row["latency_p99_s"]
    latency = "-" if p50 is None else f"{p50:.2f} / {p99:.2f} s"
    return (f"[{row['t_s']:6.0f} / {duration_s:.0f} s {row['phase']}] published {row['published']}, results "
            f"{row['results']} ({row['results_per_s']:.2f}/s), dead {row['dead_letters']}, lag {lag}, worker RSS "
            f"{row['rss_mb']} MB, p50 / p99 {latency}")


def sample_until_drained(sampler: Sampler, publisher: Publisher, worker: BenchWorker, config: SoakConfig,
                         echo: Echo) -> tuple[list[dict], list[str]]:
    """Samples every ``interval_s`` while the publisher runs ("load"), then until every ad is accounted
    for or ``drain_timeout_s`` passed ("drain"); a last sample at the end. Stops early if the worker exits."""
    samples: list[dict] = []
    failures: list[str] = []
    drain_deadline: float | None = None
    k = 1
    while True:
        now = time.monotonic()
        if drain_deadline is None and not publisher.is_alive():
            drain_deadline = now + config.drain_timeout_s
        if drain_deadline is not None and (sampler.accounted() or now > drain_deadline):
            break
        try:
            worker.check_alive()
        except WorkerProcessError as exc:
            failures.append(str(exc).splitlines()[0])
            sampler.ads.stop()
            break
        if now >= sampler.t0 + k * config.interval_s:
            samples.append(sampler.sample("load" if drain_deadline is None else "drain"))
            echo(progress(samples[-1], config.duration_s))
            k += 1
        time.sleep(POLL_S)
    samples.append(sampler.sample("end"))
    echo(progress(samples[-1], config.duration_s))
    return samples, failures


@contextmanager
def soak_broker(settings: Settings, config: SoakConfig, state_dir: Path) -> Iterator[tuple[Settings, int | None]]:
    """A fresh embedded broker of the soak's own (``own_broker``), or the configured cluster as it is."""
    if not config.own_broker:
        yield settings, None
        return
    shutil.rmtree(state_dir, ignore_errors=True)  # a broker's CPU per MB grows with what it holds
    with phase_broker(settings, state_dir) as pair:
        yield pair


def soak_on(settings: Settings, config: SoakConfig, rate: float, pool: list, work: Path, broker_pid: int | None,
            echo: Echo) -> dict:
    """Soak topics and group of their own, one worker, warm-up, the paced load, the drain and the verdict."""
    from schemas.pipeline import ALL_STAGES, PIPELINE, STAGE_NAMES
    from streams.bench.pipeline import phase_settings
    from streams.ops.client import publish
    from streams.service.app import app_id
    from streams.service.connect import prepare_cluster

    s = phase_settings(settings, f"soak-{int(time.time())}", 1)
    prepare_cluster(s)
    echo(f"starting an all-stages worker (log {work / 'soak-worker.log'})")
    worker = BenchWorker(s, ALL_STAGES, work / "soak-worker.log", config.threads)
    collector = probe = None
    try:
        worker.wait_ready(config.worker_ready_timeout_s)
        collector = Collector(s, config.collector_poll_pause_ms)
        warm = list(bench_ads(config.warmup_ads, "soakwarm", pool))
        publish(s, warm)  # partitions assigned and first batches through before the clock starts
        collector.wait({a.ad_id for a in warm}, config.drain_timeout_s)
        probe = LagProbe(s, app_id(s, STAGE_NAMES), [spec.topics(s)[0] for spec in PIPELINE])
        ads = PacedAds(config.ads(rate), "soak", pool)
        echo(f"publishing {len(ads)} ads at {rate:.2f} ads/s for {config.duration_s:.0f} s, "
             f"a sample every {config.interval_s:g} s")
        publisher = Publisher(s, ads, rate)
        sampler = Sampler(collector, probe, ads, worker.process.pid, broker_pid, time.monotonic())
        publisher.start()
        samples, failures = sample_until_drained(sampler, publisher, worker, config, echo)
        ads.stop()
        publisher.join(config.duration_s + config.drain_timeout_s)
        if publisher.error is not None:
            failures.append(f"publishing failed: {publisher.error}")
        counts = accounting(ads.ids, collector.arrivals, collector.dead)
        latencies = [collector.latencies[a] for a in ads.ids if a in collector.latencies]
        judged = [collector.latencies[a] for a in ads.ids
                  if collector.arrivals.get(a, 0.0) - sampler.t0 >= config.judge_from_s and a in collector.latencies]
        return {"rate": {"target_ads_per_s": rate,
                         "achieved_ads_per_s": len(ads.ids) / max(publisher.seconds or 0.0, 1e-9)},
                "ads": counts, "latency": {"all": latency_summary(latencies) if latencies else {},
                                           "judged": latency_summary(judged) if judged else {}},
                "worker_peak_rss_mb": worker.peak_rss_mb(), "samples": samples,
                "verdict": verdict(samples, config, counts, failures), "topic_uploaded": s.topic_uploaded}
    finally:
        if probe is not None:
            probe.close()
        if collector is not None:
            collector.close()
        stop_all([worker])


def run_soak(base: Settings, config: SoakConfig, rate: float, work: Path, echo: Echo = print) -> dict:
    """The whole soak with the model the workers serve; scratch files (worker log, broker state) in ``work``."""
    from streams.bench.inputs import image_pool
    from streams.bench.machine import load_average, machine_info
    from streams.bench.run import POOL_SIZE, served_model

    config.check(rate)
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    info = machine_info()
    settings, model = served_model(base)
    pool = image_pool(POOL_SIZE)
    with soak_broker(settings, config, work / "soak-state") as (settings, broker_pid):
        result = soak_on(settings, config, rate, pool, work, broker_pid, echo)
    return {**result, "model": model, "machine": info, "load_average_end": load_average(),
            "config": asdict(config), "seconds": round(time.time() - started, 1)}


if __name__ == "__main__":
    import typer

    from streams.bench.cli import soak_command

    typer.run(soak_command)
