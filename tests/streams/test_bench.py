"""The benchmark's own logic on tiny inputs: ratios, targets, records, points, report. No timing assertions."""

from __future__ import annotations

import math

import pytest

from schemas import AdUploaded, ImageRef
from schemas.settings import Settings
from streams.bench import ratios
from streams.bench.config import BenchConfig
from streams.bench.cpu_account import CpuAccount
from streams.bench.inprocess import (BenchError, batching_ratios, best_batch, chained, measure_point, pipelined,
                                     records_of)
from streams.bench.pipeline import phase_settings, steady_rate
from streams.bench.probe import read_records, write_records
from streams.bench.profile import summarize
from streams.bench.processes import combined_rate, settings_env
from streams.bench.report import render
from streams.service.metrics import Metrics
from streams.service.stages import InRecord, Stage


def ads(n: int, text: str = "fresh coffee") -> list[AdUploaded]:
    return [AdUploaded(ad_id=f"a{i}", image=ImageRef(data=b"x"), text=text) for i in range(n)]


def point(batch: int, rate: float) -> dict:
    return {"batch": batch, "ads": 8, "ads_per_s": rate, "cpu_seconds_per_ad": 0.1,
            "latency_p50_s": batch / rate, "latency_p95_s": batch / rate}


def test_batching_ratios_are_over_batch_one_and_best_batch_prefers_small():
    points = [point(1, 10.0), point(4, 19.6), point(16, 20.0)]
    assert batching_ratios(points) == {"1": 1.0, "4": pytest.approx(1.96), "16": 2.0}
    assert best_batch(points) == 4  # within 5% of the top: the smaller batch has the lower latency
    assert best_batch([point(1, 10.0), point(4, 5.0)]) == 1


def test_chain_and_rate_at_batch():
    assert ratios.chain_rate([2.0, 2.0]) == pytest.approx(1.0)
    points = [point(1, 1.0), point(4, 3.0), point(16, 5.0)]
    assert ratios.rate_at_batch(points, 8) == 3.0
    assert ratios.rate_at_batch(points, 32) == 5.0
    assert ratios.rate_at_batch([point(4, 3.0)], 1) == 3.0


def test_cpu_ceiling_and_cpu_bound_figures():
    from streams.bench.run import cpu_bound_figures

    assert ratios.cpu_ceiling(0.3, 0.1) == pytest.approx(0.75)
    phase = {"cpu": {"cpu_seconds_per_ad": {"worker0": 0.36, "broker": 0.03, "bench": 0.02}}}
    figures = cpu_bound_figures(phase, inprocess_cpu=0.3)
    assert figures["worker_cpu_over_inprocess"] == pytest.approx(1.2)
    assert figures["overhead_ceiling"] == pytest.approx(0.3 / 0.35)
    assert cpu_bound_figures(None, 0.3) == {} and cpu_bound_figures(phase, None) == {}


def test_matmul_efficiency():
    assert ratios.matmul_efficiency(flops_per_ad=2e9, ads_per_s=50.0, matmul_flops_per_s=200e9) == pytest.approx(0.5)


def test_targets_report_met_unmet_and_missing():
    result = {"classify": {"matmul_efficiency": 0.6}, "describe": {"cpu_seconds_per_ad": 0.3, "scaling_2proc": 1.8},
              "memory": {"all_stages_rss_mb": 1000.0}}
    by_key = {t["key"]: t for t in ratios.targets(result)}
    assert by_key["classify.matmul_efficiency"]["met"] is True
    assert by_key["describe.cpu_seconds_per_ad"]["met"] is False
    assert by_key["pipeline.overhead_ratio"]["met"] is None
    assert ratios.lookup(result, "describe.scaling_2proc") == 1.8
    assert ratios.lookup(result, "describe.missing") is None


def test_batch_defaults_follow_best_batch():
    stages = {"describe": {"best_batch": 1}, "features": {"best_batch": 4}, "classify": {"best_batch": 16}}
    assert ratios.batch_defaults(stages) == {"describe_max_batch": 1, "features_max_batch": 4,
                                             "classify_max_batch": 16}


def test_records_round_trip(tmp_path):
    records = records_of(ads(3)) + [InRecord(value=b"{}", key=None)]
    write_records(tmp_path / "r.bin", records)
    back = read_records(tmp_path / "r.bin")
    assert [(r.value, r.key) for r in back] == [(r.value, r.key) for r in records]


def test_measure_point_on_a_real_stage(uppercase_stage):
    result = measure_point(uppercase_stage, records_of(ads(3)), batch=2, ads=5)
    assert result["batch"] == 2 and result["ads"] == 6  # whole batches
    assert result["ads_per_s"] > 0 and result["latency_p95_s"] >= result["latency_p50_s"]
    assert uppercase_stage.batches == [2, 2, 2, 2]  # warm-up + three timed batches


def test_measure_point_refuses_failed_ads(uppercase_stage):
    with pytest.raises(BenchError, match="failed"):
        measure_point(uppercase_stage, records_of(ads(2, text="bad image")), batch=1, ads=1)


class PassOn(Stage):
    """A second stage for pipelines: passes each described ad on unchanged, noting its batch sizes."""

    name = "features"

    def __init__(self, settings: Settings) -> None:
        from schemas import AdDescribed

        type(self).input_model = AdDescribed
        super().__init__(settings, Metrics())
        self.batches: list[int] = []

    def prepare(self, event):
        return event

    def infer(self, events, prepared):
        self.batches.append(len(events))
        return list(prepared)

    def finish(self, event, output, seconds):
        return output


@pytest.mark.parametrize("run", [chained, pipelined])
def test_chained_and_pipelined_run_every_ad_through_every_stage(run, uppercase_stage, stage_settings):
    second = PassOn(stage_settings)
    finished_at = run({"describe": uppercase_stage, "features": second}, ["describe", "features"],
                      records_of(ads(7)), {"describe": 2, "features": 3})
    assert len(finished_at) == 7 and finished_at == sorted(finished_at)
    assert sum(uppercase_stage.batches) == 7 and max(uppercase_stage.batches) <= 2
    assert sum(second.batches) == 7 and max(second.batches) <= 3


def test_pipelined_raises_what_a_stage_thread_raised(uppercase_stage):
    with pytest.raises(BenchError, match="failed"):
        pipelined({"describe": uppercase_stage}, ["describe"], records_of(ads(3, text="bad image")), {"describe": 2})


def test_cpu_account_reports_seconds_per_ad_of_each_process():
    import os

    account = CpuAccount({"me": os.getpid(), "gone": None})
    account.start()
    sum(i * i for i in range(200_000))
    figures = account.stop(ads=4, wall_s=1.0, cores=2)
    assert set(figures["cpu_seconds_per_ad"]) == {"me", "bench"}
    assert all(v >= 0 for v in figures["cpu_seconds_per_ad"].values()) and figures["machine_busy_share"] >= 0


def test_profile_summary_groups_threads_and_functions(tmp_path):
    raw = tmp_path / "p.txt"
    raw.write_text("thread (1): adsent-describe_0;Thread.run (threading.py:982);Session.run (ort/session.py:395) 6\n"
                   "thread (1): adsent-describe_0;Thread.run (threading.py:982);resize (PIL/Image.py:2438) 2\n"
                   "thread (2): MainThread;select (selectors.py:468) 2\n")
    summary = summarize(raw)
    assert summary["samples"] == 10
    assert summary["threads"]["adsent-describe"]["share"] == pytest.approx(0.8)
    assert summary["threads"]["adsent-describe"]["top"]["Session.run (session.py)"] == pytest.approx(0.6)
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(BenchError, match="no samples"):
        summarize(tmp_path / "empty.txt")


def test_steady_rate_trims_fill_and_drain():
    arrivals = [0.0] + [10.0 + i for i in range(10)] + [100.0]
    assert steady_rate(arrivals) == pytest.approx(1.0)
    with pytest.raises(BenchError):
        steady_rate([1.0])


def test_combined_rate_spans_all_processes():
    results = [{"ads": 10, "started": 0.0, "ended": 5.0}, {"ads": 10, "started": 1.0, "ended": 10.0}]
    assert combined_rate(results) == pytest.approx(2.0)


def test_phase_settings_isolate_topics_and_give_each_worker_a_partition():
    base = Settings(partitions_uploaded=1)
    phase = phase_settings(base, "w2", workers=2)
    assert phase.topic_uploaded == "bench-w2.ads.uploaded" and phase.partitions_uploaded == 2
    assert phase.kafka_consumer_group == "adsent-bench-w2"


def test_settings_env_passes_only_changed_settings():
    env = settings_env(Settings(describe_max_batch=2), threads=1)
    assert env["ADSENT_DESCRIBE_MAX_BATCH"] == "2" and env["OMP_NUM_THREADS"] == "1"
    assert "ADSENT_FEATURES_MAX_BATCH" not in env


def test_quick_config_is_smaller():
    quick, full = BenchConfig.quick(), BenchConfig()
    assert quick.describe_ads_per_point < full.describe_ads_per_point and set(quick.batch_sizes) <= set(full.batch_sizes)


def test_report_renders_targets_stages_and_phases():
    stage = {"points": [point(1, 2.0), point(4, 3.0)], "batching": {"1": 1.0, "4": 1.5}, "best_batch": 4}
    result = {"mode": "quick", "command": "adsent bench --quick --out x", "threads": 1,
              "machine": {"cpu": "test cpu", "cores": 2}, "load_average_end": (1.0, 1.0, 1.0),
              "stages": {"cpu": {"describe": stage}}, "batch_defaults": {"cpu": {"describe_max_batch": 4}},
              "describe": {"cpu_seconds_per_ad": 0.2, "steps": {"ocr": {"wall_s": 0.1, "cpu_s": 0.1}}},
              "classify": {"flops_per_ad": 2e9, "matmul_efficiency": 0.5},
              "memory": {"all_stages_rss_mb": 900.0},
              "pipeline": {"throughput_ads_per_s": 1.5, "overhead_ratio_by_workers": {"1": 0.95},
                           "inprocess_pipelined_ads_per_s": {"1": 1.58}, "phases": [
                  {"workers": 1, "throughput_ads_per_s": 1.5, "burst_ads": 10,
                   "cpu": {"cpu_seconds_per_ad": {"worker0": 0.5, "broker": 0.05}, "machine_busy_share": 0.9},
                   "profile": {"samples": 10, "throughput_ads_per_s": 1.4, "file": "work/profile-worker.txt",
                               "threads": {"adsent-describe": {"share": 0.6, "top": {"Session.run (x.py)": 0.5}}}},
                   "loads": [{"fraction": 0.5, "rate_ads_per_s": 0.75, "ads": 5, "latency_p50_s": 1.0,
                              "latency_p95_s": 2.0, "latency_p99_s": 2.5}]}]}}
    result["targets"] = ratios.targets(result)
    text = render(result)
    assert "adsent bench --quick --out x" in text and "test cpu" in text
    assert "| describe.cpu_seconds_per_ad | <= 0.25 | 0.2 | yes |" in text
    assert "`describe_max_batch=4`" in text and "| 1 | 50% | 0.75 | 5 | 1 | 2 | 2.5 |" in text
    assert "| streaming overhead (end to end / in-process pipeline, by workers) | 1: 0.95 |" in text
    assert "worker0 0.500, broker 0.050" in text and "| adsent-describe | 0.6 | Session.run (x.py) 50.0% |" in text
    assert not math.isnan(result["classify"]["matmul_efficiency"])


def test_assemble_derives_the_required_keys_and_ratios():
    from streams.bench.run import assemble

    stage = lambda rate: {"points": [point(1, rate), point(16, rate * 1.5)], "best_batch": 16,  # noqa: E731
                          "batching": {"1": 1.0, "16": 1.5}}
    local = {"stages": {"cpu": {"describe": stage(5.0), "features": stage(8.0), "classify": stage(30.0)}},
             "describe_steps": {}, "classify_flops_per_ad": 1e9, "matmul_flops_per_s": 1e11,
             "fused_view": {"sn_over_s": 2.0}, "inprocess_rss_mb": 900.0}
    procs = {"scaling_2proc": 1.9, "describe_1proc_ads_per_s": 5.0, "describe_2proc_ads_per_s": 9.5,
             "role_rss_mb": {"describe": 1000.0},
             "pipeline_ads_per_s": {"1": {"ads_per_s": 5.0, "cpu_seconds_per_ad": 0.3}}}
    phase = {"workers": 1, "throughput_ads_per_s": 4.5, "burst_ads": 40, "peak_rss_mb": [1500.0],
             "cpu": {"cpu_seconds_per_ad": {"worker0": 0.33, "broker": 0.03, "bench": 0.02}},
             "loads": [{"fraction": 0.5, "rate_ads_per_s": 2.2, "ads": 30, "latency_p50_s": 0.4,
                        "latency_p95_s": 0.5, "latency_p99_s": 0.6}]}
    result = assemble(Settings(describe_max_batch=1, features_max_batch=1, classify_max_batch=16), BenchConfig(),
                      local, procs, {"phases": [phase]})
    for key in ("classify.matmul_efficiency", "pipeline.overhead_ratio", "describe.scaling_2proc",
                "describe.cpu_seconds_per_ad", "pipeline.throughput_ads_per_s", "pipeline.latency_p50_s",
                "pipeline.latency_p99_s", "memory.all_stages_rss_mb"):
        assert ratios.lookup(result, key) is not None, key
    assert result["pipeline"]["overhead_ratio"] == pytest.approx(0.9)
    assert result["classify"]["matmul_efficiency"] == pytest.approx(1e9 * 45.0 / 1e11)
    assert result["pipeline"]["slowest_stage"] == "describe"
    assert result["pipeline"]["overhead_ceiling"] == pytest.approx(0.3 / 0.35)
    assert result["batch_defaults"]["cpu"]["classify_max_batch"] == 16


def test_merge_runs_keeps_the_median_rate_and_the_measured_loads():
    from streams.bench.pipeline import merge_runs

    def run(rate, broker, loads=(), rss=1000.0):
        return {"workers": 1, "burst_ads": 40, "throughput_ads_per_s": rate, "loads": list(loads),
                "cpu": {"cpu_seconds_per_ad": {"worker0": 0.3, "broker": broker}, "machine_busy_share": 0.9},
                "peak_rss_mb": [rss]}

    load = {"fraction": 0.5, "latency_p50_s": 0.4}
    merged = merge_runs([run(4.0, 0.03, [load], rss=1500.0), run(5.0, 0.01), run(3.0, 0.02)])
    assert merged["throughput_ads_per_s"] == 4.0 and merged["bursts_ads_per_s"] == [4.0, 5.0, 3.0]
    assert merged["cpu"]["cpu_seconds_per_ad"]["broker"] == pytest.approx(0.02)
    assert merged["loads"] == [load] and merged["peak_rss_mb"] == [1500.0] and "profile" not in merged


# The soak: growth verdicts, windows, accounting, its command. One short real soak (slow, integration).

def series(slope_per_min: float, noise: float = 0.0, start: float = 100.0, minutes: float = 10.0,
           interval_s: float = 10.0) -> tuple[list[float], list[float]]:
    import random

    rng = random.Random(7)
    times = [interval_s * k for k in range(1, int(minutes * 60 / interval_s) + 1)]
    return times, [start + slope_per_min * t / 60 + rng.gauss(0.0, noise) for t in times]


def test_slope_per_min_is_the_least_squares_slope():
    from streams.bench.growth import slope_per_min

    assert slope_per_min([0.0, 60.0, 120.0], [5.0, 7.0, 9.0]) == pytest.approx(2.0)
    assert slope_per_min([0.0, 30.0, 60.0, 90.0], [0.0, 10.0, 0.0, 10.0]) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        slope_per_min([1.0, 1.0], [1.0, 2.0])


def test_flat_series_are_steady_and_growing_ones_are_not():
    from streams.bench.growth import lag_growth, rss_growth

    flat_t, flat = series(0.0, start=3.0)
    lag = lag_growth(flat_t, flat, 300.0, max_slope_per_min=10.0, max_final=50.0)
    assert not lag.grows and lag.slope_per_min == pytest.approx(0.0) and lag.points == 31
    grow_t, grow = series(30.0, start=0.0)  # 30 msgs/min: 300 by the end
    lag = lag_growth(grow_t, grow, 300.0, max_slope_per_min=10.0, max_final=50.0)
    assert lag.grows and lag.slope_per_min == pytest.approx(30.0) and "KEEPS GROWING" in lag.text()
    leak_t, leak = series(5.0, noise=2.0, start=1500.0)  # 5 MB/min: a leak
    assert rss_growth(leak_t, leak, 300.0, max_slope_per_min=2.0, max_rise_mb=10.0).grows


def test_noisy_flat_series_and_small_rises_pass():
    from streams.bench.growth import lag_growth, rss_growth

    t, rss = series(0.0, noise=8.0, start=1500.0)  # allocator noise of +-8 MB around a flat line
    assert not rss_growth(t, rss, 300.0, max_slope_per_min=2.0, max_rise_mb=10.0).grows
    t, lag = series(0.0, noise=5.0, start=20.0)
    assert not lag_growth(t, [max(v, 0.0) for v in lag], 300.0, max_slope_per_min=10.0, max_final=50.0).grows
    # a steep slope that stays small in absolute terms: a short run's noise, not a leak
    short_t, short = [60.0, 70.0, 80.0, 90.0], [1500.0, 1501.0, 1502.0, 1503.0]
    growth = rss_growth(short_t, short, 60.0, max_slope_per_min=2.0, max_rise_mb=10.0)
    assert growth.slope_per_min == pytest.approx(6.0) and growth.level == pytest.approx(3.0) and not growth.grows
    # lag growing fast but still low at the end is not a failure either
    assert not lag_growth([0, 60, 120], [0, 12, 24], 0.0, max_slope_per_min=10.0, max_final=50.0).grows


def test_growth_is_judged_after_the_warm_up_on_samples_with_values():
    from streams.bench.growth import lag_growth

    times = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    warm_up_spike = [500.0, 400.0, 3.0, 4.0, None, 3.0]
    growth = lag_growth(times, warm_up_spike, 30.0, max_slope_per_min=10.0, max_final=50.0)
    assert growth.points == 3 and not growth.grows and growth.level == 3.0
    too_few = lag_growth(times, warm_up_spike, 55.0, max_slope_per_min=10.0, max_final=50.0)
    assert too_few.slope_per_min is None and not too_few.grows and "too few" in too_few.text()


def test_window_latency_takes_the_results_of_its_window():
    from streams.bench.soak_sample import window_latency

    arrivals = {"a": 1.0, "b": 2.0, "c": 2.5, "d": 4.0}
    latencies = {"a": 9.0, "b": 0.2, "c": 0.4, "d": 9.0}
    window = window_latency(arrivals, latencies, 1.0, 3.0)  # (1, 3]: a is the last window's
    assert window["window_results"] == 2 and window["latency_p50_s"] == pytest.approx(0.3)
    assert window["latency_p99_s"] == pytest.approx(0.398)
    empty = window_latency(arrivals, latencies, 4.0, 5.0)
    assert empty == {"window_results": 0, "latency_p50_s": None, "latency_p95_s": None, "latency_p99_s": None}


def test_lag_is_end_minus_committed_per_topic():
    from kafka import TopicPartition

    from streams.bench.soak_sample import rss_mb, total_lag

    up0, up1, desc0 = TopicPartition("up", 0), TopicPartition("up", 1), TopicPartition("desc", 0)
    ends = {up0: 10, up1: 5, desc0: 7}
    assert total_lag(ends, {up0: 8, up1: -1, desc0: 9}) == {"up": 7, "desc": 0}  # no commit yet: from 0
    import os

    assert rss_mb(os.getpid()) > 0 and rss_mb(None) is None


def test_accounting_names_dead_letters_and_missing_ads():
    from streams.bench.soak_report import accounting

    counts = accounting(["a", "b", "c", "d"], {"a": 1.0, "b": 2.0}, {"b": "timeout", "c": "image_corrupt"})
    assert counts == {"published": 4, "results": 2, "dead_letters": 1, "dead_letter_codes": {"image_corrupt": 1},
                      "missing": 1, "missing_ids": ["d"]}


def soak_samples(lags: list[float], rss: list[float], interval_s: float = 10.0) -> list[dict]:
    rows = [{"t_s": interval_s * (k + 1), "phase": "load", "published": k, "results": k, "dead_letters": 0,
             "results_per_s": 1.0, "lag": lag, "rss_mb": mb, "broker_rss_mb": None, "latency_p50_s": 0.4,
             "latency_p95_s": 0.5, "latency_p99_s": 0.6} for k, (lag, mb) in enumerate(zip(lags, rss))]
    return rows + [dict(rows[-1], t_s=rows[-1]["t_s"] + 5, phase="drain", lag=10_000.0, rss_mb=9_000.0)]


def test_verdict_passes_a_steady_soak_and_fails_on_growth_or_missing_ads():
    from streams.bench.soak_config import SoakConfig
    from streams.bench.soak_report import verdict

    config = SoakConfig(duration_s=100.0, interval_s=10.0)
    complete = {"published": 10, "missing": 0}
    steady = verdict(soak_samples([3.0] * 10, [1500.0] * 10), config, complete, [])
    assert steady["passed"] and not steady["failures"]  # the drain row's spike is not judged
    growing = verdict(soak_samples([10.0 * k for k in range(10)], [1500.0] * 10), config, complete, [])
    assert not growing["passed"] and growing["failures"] == ["consumer lag keeps growing"]
    missing = verdict(soak_samples([3.0] * 10, [1500.0] * 10), config, {"published": 10, "missing": 2}, [])
    assert missing["failures"] == ["2 of 10 ads had neither a result nor a dead letter"]
    assert not verdict(soak_samples([3.0] * 10, [1500.0] * 10), config, complete, ["worker exited"])["passed"]


def test_soak_config_bounds_the_ads_and_refuses_unjudgeable_runs():
    from streams.bench.soak_config import SoakConfig

    config = SoakConfig(duration_s=120.0, interval_s=10.0)
    assert config.ads(2.0) == 240 and config.judge_from_s == 60.0
    config.check(2.0)
    with pytest.raises(BenchError, match="only 1 samples"):
        SoakConfig(duration_s=50.0, interval_s=20.0).check(2.0)
    with pytest.raises(BenchError, match="positive"):
        config.check(0.0)


def test_soak_rate_comes_from_the_bench_result(tmp_path):
    import json

    from streams.bench.soak_config import bench_rate

    result = tmp_path / "result.json"
    with pytest.raises(BenchError, match="no bench result"):
        bench_rate(result)
    result.write_text(json.dumps({"pipeline": {"throughput_ads_per_s": 4.9, "throughput_by_workers": {"1": 4.5,
                                                                                                        "2": 4.9}}}))
    assert bench_rate(result) == 4.5
    result.write_text(json.dumps({"pipeline": {}}))
    with pytest.raises(BenchError, match="no end-to-end rate"):
        bench_rate(result)


def test_paced_ads_are_made_as_taken_and_stop_early():
    from streams.bench.soak import PacedAds

    paced = PacedAds(5, "soak", [(b"x", "copy")])
    taken = []
    for ad in paced:
        taken.append(ad.ad_id)
        if len(taken) == 3:
            paced.stop()
    assert len(paced) == 5 and taken == paced.ids == ["soak-00000", "soak-00001", "soak-00002"]


def test_a_sample_counts_results_so_far_and_the_window_since_the_last_sample():
    import os
    import time
    from types import SimpleNamespace

    from streams.bench.soak import PacedAds, Sampler

    paced = PacedAds(4, "soak", [(b"x", "copy")])
    list(paced)
    t0 = time.monotonic() - 10.0
    collector = SimpleNamespace(arrivals={"soakwarm-00000": t0 - 1, "soak-00000": t0 + 1, "soak-00001": t0 + 2},
                                latencies={"soakwarm-00000": 5.0, "soak-00000": 0.5, "soak-00001": 0.7},
                                dead={"soak-00002": "timeout"})
    sampler = Sampler(collector, SimpleNamespace(read=lambda: {"up": 2, "desc": 1}), paced, os.getpid(), None, t0)
    row = sampler.sample("load")
    assert row["published"] == 4 and row["results"] == 2 and row["dead_letters"] == 1 and row["lag"] == 3
    assert row["window_results"] == 2 and row["latency_p50_s"] == pytest.approx(0.6) and row["rss_mb"] > 0
    collector.arrivals["soak-00003"] = time.monotonic()
    collector.latencies["soak-00003"] = 0.9
    later = sampler.sample("drain")
    assert later["results"] == 3 and later["window_results"] == 1 and sampler.accounted()


def test_soak_report_and_summary():
    from streams.bench.soak_config import SoakConfig
    from streams.bench.soak_report import render as render_soak
    from streams.bench.soak_report import summary_lines, verdict

    config = SoakConfig(duration_s=100.0, interval_s=10.0)
    samples = soak_samples([3.0] * 10, [1500.0] * 10)
    ads = {"published": 10, "results": 9, "dead_letters": 1, "dead_letter_codes": {"timeout": 1}, "missing": 0,
           "missing_ids": []}
    result = {"command": "adsent bench soak --rate 1", "model": "checkpoint x", "config": {"duration_s": 100.0},
              "rate": {"target_ads_per_s": 1.0, "achieved_ads_per_s": 0.99, "source": "--rate"}, "ads": ads,
              "latency": {"all": {"latency_p50_s": 0.4, "latency_p95_s": 0.5, "latency_p99_s": 0.6}, "judged": {}},
              "worker_peak_rss_mb": 1510.0, "samples": samples, "verdict": verdict(samples, config, ads, [])}
    lines = summary_lines(result)
    assert lines[0].startswith("soak PASSED: 100 s at 0.99 ads/s (target 1, --rate)")
    assert "dead-lettered 1 (timeout 1), missing 0" in lines[1] and "all 0.4 / 0.5 / 0.6 s" in lines[2]
    text = render_soak(result)
    assert "adsent bench soak --rate 1" in text and "| 100 | load | 9 | 9 | 0 | 1 | 3 | 1,500 |" in text


def test_soak_command_needs_a_bench_result_or_a_rate(tmp_path):
    from typer.testing import CliRunner

    from streams.cli import build_app

    app = build_app()
    assert "soak" in CliRunner().invoke(app, ["bench", "--help"]).output
    result = CliRunner().invoke(app, ["bench", "soak", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "no bench result" in result.output
    result = CliRunner().invoke(app, ["bench", "soak", "--rate", "1", "--duration", "20", "--interval", "10"])
    assert result.exit_code == 1 and "only 1 samples" in result.output  # refused before anything starts


@pytest.mark.integration
@pytest.mark.slow
def test_a_short_soak_accounts_for_every_ad(tmp_path):
    from streams.bench.soak import run_soak
    from streams.bench.soak_config import SoakConfig

    config = SoakConfig(duration_s=16.0, interval_s=2.0, drain_timeout_s=60.0)
    lines: list[str] = []
    result = run_soak(Settings(allow_untrained_model=True), config, rate=1.0, work=tmp_path, echo=lines.append)
    assert result["ads"]["published"] == 16 and result["ads"]["missing"] == 0
    assert result["ads"]["results"] + result["ads"]["dead_letters"] == 16
    load = [s for s in result["samples"] if s["phase"] == "load"]
    assert len(load) >= 6 and all(s["rss_mb"] and s["lag"] is not None for s in load)
    assert result["latency"]["all"]["latency_p50_s"] > 0 and result["verdict"]["lag"]["slope_per_min"] is not None
    assert any(line.startswith("[") and "worker RSS" in line for line in lines)
    assert (tmp_path / "soak-worker.log").exists()
