"""Per-stage throughput and latency in this process, at several batch sizes, with each describe step's cost."""

from __future__ import annotations

import logging
import math
import queue
import statistics
import threading
import time
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from schemas import AdUploaded, encode
from schemas.pipeline import STAGE_NAMES
from schemas.settings import Settings
from streams.bench.config import BenchConfig
from streams.bench.machine import cpu_seconds
from streams.service.metrics import Metrics
from streams.service.stages import Emitted, InRecord, Stage

log = logging.getLogger(__name__)


class BenchError(RuntimeError):
    """A benchmark could not measure what it set out to (an ad failed, a worker did not start)."""


def records_of(events: Sequence) -> list[InRecord]:
    """Events as the Kafka records a stage reads."""
    return [InRecord(value=encode(e), key=Stage.ad_id_of(e).encode()) for e in events]


def next_records(stage: Stage, records: Sequence[InRecord]) -> list[InRecord]:
    """Run ``stage``; its outputs as the records the next stage reads (the bytes the stage already encoded).
    Any dead letter is a benchmark error, not a figure."""
    out = stage.run(records)
    failed = [r for r in out if not isinstance(r, Emitted)]
    if failed:
        letter = failed[0].dead_letter
        raise BenchError(f"{stage.name}: {len(failed)} of {len(records)} ads failed, e.g. [{letter.code}] {letter.message}")
    return [InRecord(value=r.value, key=r.ad_id.encode()) for r in out]


def stage_inputs(stages: dict[str, Stage], ads: Sequence[AdUploaded]) -> dict[str, list[InRecord]]:
    """The input records of every stage for these ads, made by running the chain once."""
    inputs = {"describe": records_of(ads)}
    inputs["features"] = next_records(stages["describe"], inputs["describe"])
    inputs["classify"] = next_records(stages["features"], inputs["features"])
    return inputs


def chained(stages: dict[str, Stage], names: Sequence[str], records: Sequence[InRecord],
            batches: dict[str, int]) -> list[float]:
    """The stages one after another in this thread: every ad through ``names[0]``, then ``names[1]`` ...
    Returns when each ad left the last stage (``time.monotonic``)."""
    work, finished_at = list(records), []
    for name in names:
        out: list[InRecord] = []
        for i in range(0, len(work), batches[name]):
            batch = next_records(stages[name], work[i: i + batches[name]])
            out.extend(batch)
            if name == names[-1]:
                finished_at += [time.monotonic()] * len(batch)
        work = out
    return finished_at


def pipelined(stages: dict[str, Stage], names: Sequence[str], records: Sequence[InRecord],
              batches: dict[str, int]) -> list[float]:
    """The stages at once, one thread each, joined by queues: the worker's concurrency without the broker.

    Each thread takes what is queued (up to its batch size, waiting only for the first ad), as a
    worker's agent takes what Kafka has fetched. Returns when each ad left the last stage
    (``time.monotonic``, comparable across processes on Linux).
    """
    queues = [queue.Queue() for _ in range(len(names) + 1)]
    errors: list[BaseException] = []
    finished_at: list[float] = []
    done = object()

    def run(k: int, name: str) -> None:
        source, sink, finished = queues[k], queues[k + 1], False
        try:
            while not finished:
                batch = [source.get()]
                while len(batch) < batches[name] and not source.empty():
                    batch.append(source.get())
                if batch[-1] is done:
                    finished = True
                    batch.pop()
                for record in next_records(stages[name], batch) if batch else ():
                    sink.put(record)
                    if k == len(names) - 1:
                        finished_at.append(time.monotonic())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(exc)
        sink.put(done)

    threads = [threading.Thread(target=run, args=(k, name), daemon=True) for k, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for record in records:
        queues[0].put(record)
    queues[0].put(done)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return finished_at


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def measure_point(stage: Stage, records: Sequence[InRecord], batch: int, ads: int) -> dict:
    """Ads/s, batch latency and CPU seconds per ad of ``stage`` at one batch size (after one warm-up batch)."""
    count = math.ceil(max(ads, batch) / batch)  # whole batches, at least one
    cycle = [records[i % len(records)] for i in range((count + 1) * batch)]
    next_records(stage, cycle[:batch])  # warm-up at this shape
    latencies: list[float] = []
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for k in range(count):
        start = time.perf_counter()
        next_records(stage, cycle[batch + k * batch: batch + (k + 1) * batch])
        latencies.append(time.perf_counter() - start)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    done = count * batch
    return {"batch": batch, "ads": done, "ads_per_s": done / wall, "cpu_seconds_per_ad": cpu / done,
            "latency_p50_s": statistics.median(latencies), "latency_p95_s": percentile(latencies, 95)}


def batching_ratios(points: Sequence[dict]) -> dict[str, float]:
    """Throughput at each batch size over batch 1 (over the smallest measured batch when 1 is missing)."""
    if not points:
        return {}
    base = min(points, key=lambda p: p["batch"])["ads_per_s"]
    return {str(p["batch"]): p["ads_per_s"] / base for p in points}


def best_batch(points: Sequence[dict], tolerance: float = 0.05) -> int:
    """The smallest batch within ``tolerance`` of the highest throughput (smaller batches: lower latency)."""
    top = max(p["ads_per_s"] for p in points)
    return min(p["batch"] for p in points if p["ads_per_s"] >= (1 - tolerance) * top)


def sweep(stages: dict[str, Stage], inputs: dict[str, list[InRecord]], config: BenchConfig, device: str) -> dict:
    """Every stage at every batch size: points, batching ratios and the best batch."""
    out: dict = {}
    for name in STAGE_NAMES:
        sizes = config.describe_batch_sizes if name == "describe" else config.batch_sizes
        ads = config.describe_ads_per_point if name == "describe" else config.min_ads_per_point
        points = [measure_point(stages[name], inputs[name], b, ads)
                  for b in tqdm(sizes, desc=f"{name} on {device}", leave=False)]
        out[name] = {"points": points, "batching": batching_ratios(points), "best_batch": best_batch(points)}
        log.info("%s on %s: %s ads/s", name, device, ", ".join(f"b{p['batch']}={p['ads_per_s']:.2f}" for p in points))
    return out


def describe_steps(describer, images: Sequence[bytes], repeats: int = 1) -> dict[str, dict[str, float]]:
    """Wall and CPU seconds per ad of each describe step, one ad at a time, as ``Describer.describe``
    records them (wall: each Description's timings; CPU: the describer's per-step counters)."""
    wall: dict[str, float] = {}
    cpu_before = dict(describer.cpu_seconds)
    n = 0
    for _ in range(repeats):
        for data in images:
            (description,) = describer.describe([data])
            for step, seconds in description.timings.items():
                if step != "total":
                    wall[step] = wall.get(step, 0.0) + seconds
            n += 1
    cpu = {step: describer.cpu_seconds.get(step, 0.0) - cpu_before.get(step, 0.0) for step in wall}
    steps = {step: {"wall_s": wall[step] / n, "cpu_s": cpu[step] / n} for step in wall}
    steps["total"] = {"wall_s": sum(v["wall_s"] for v in steps.values()),
                      "cpu_s": sum(v["cpu_s"] for v in steps.values())}
    return steps


def classify_flops_per_ad(model, events: Sequence) -> float:
    """Model FLOPs of ``model.classify`` per ad (torch's flop counter: matmuls and convolutions), the mean over
    ``events`` each classified alone: the useful work, without the padding a batch would add."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        for event in events:
            model.classify([event])
    return counter.get_total_flops() / len(events)


def fused_view_cost(model, events: Sequence, repeats: int) -> dict[str, float]:
    """Median seconds per ad of the text-only view S and the fused view S+N (batch of ``len(events)``)."""
    from streams.bench.classify_views import time_view

    s = statistics.median(time_view(model, list(events), "S", repeats))
    sn = statistics.median(time_view(model, list(events), "S+N", repeats))
    return {"s_latency_s": s, "sn_latency_s": sn, "sn_over_s": sn / s}


def build(settings: Settings, names: Sequence[str] = STAGE_NAMES) -> dict[str, Stage]:
    """The stages as a worker builds them (models loaded, shared and warmed up)."""
    from streams.service.worker import build_stages

    return build_stages(settings, list(names), Metrics())
