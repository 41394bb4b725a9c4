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
