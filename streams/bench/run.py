"""One benchmark run: in-process stages, processes, end to end; the result dictionary."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from schemas.pipeline import ALL_STAGES, PIPELINE
from schemas.settings import Settings
from streams.bench import ratios
from streams.bench.config import BenchConfig
from streams.bench.inprocess import (build, classify_flops_per_ad, describe_steps, fused_view_cost, stage_inputs,
                                     sweep)
from streams.bench.inputs import bench_ads, image_pool
from streams.bench.machine import load_average, machine_info, matmul_flops_per_s, peak_rss_mb
from streams.bench.probe import write_records
from streams.bench.pipeline import steady_rate
from streams.bench.processes import combined_rate, run_probes

log = logging.getLogger(__name__)
POOL_SIZE = 8  # distinct ads (half synthetic with slogans, half photos)


def devices() -> list[str]:
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def in_process(settings: Settings, config: BenchConfig, pool: list, work: Path) -> dict:
    """Stage sweeps per device, describe steps, classify FLOPs and efficiency, the fused view's cost."""
    import torch
    from schemas import AdFeatures, decode

    out: dict = {"stages": {}}
    ads = list(bench_ads(len(pool), "inproc", pool))
    for device in devices():
        stages = build(settings.model_copy(update={"device": device}))
        inputs = stage_inputs(stages, ads)
        out["stages"][device] = sweep(stages, inputs, config, device)
        if device != "cpu":
            continue
        for name, records in inputs.items():
            write_records(work / f"{name}.bin", records)
        out["describe_steps"] = describe_steps(stages["describe"].describer, [d for d, _ in pool])
        events = [decode(r.value, AdFeatures) for r in inputs["classify"]]
        model = stages["classify"].model
        out["classify_flops_per_ad"] = classify_flops_per_ad(model, events)  # the ads the sweep cycles over
        out["fused_view"] = fused_view_cost(model, events[:1], config.view_repeats)
        out["matmul_flops_per_s"] = matmul_flops_per_s(config.matmul_side, config.matmul_repeats)
        out["inprocess_rss_mb"] = peak_rss_mb()
        del stages
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return out


def inprocess_pipeline(settings: Settings, config: BenchConfig, work: Path, copies: int) -> dict:
    """All stages at once in ``copies`` processes, no broker, as many ads in all as an end-to-end burst:
    the steady rate (taken as the end-to-end one is) and the CPU seconds per ad."""
    probes = run_probes(settings, ALL_STAGES, work / "describe.bin", config.e2e_burst_ads // copies, copies, work,
                        config.threads, config.worker_ready_timeout_s, concurrent=True, repeats=config.burst_repeats)
    rates = [steady_rate([t for probe in probes for t in probe["finished_at_monotonic"][run]])
             for run in range(config.burst_repeats)]
    return {"ads_per_s": statistics.median(rates), "runs_ads_per_s": rates,
            "cpu_seconds_per_ad": sum(p["cpu_seconds_per_ad"] * p["ads"] for p in probes) / sum(p["ads"] for p in probes)}


def processes(settings: Settings, config: BenchConfig, work: Path) -> dict:
    """Describe in 1 and 2 processes at once; the whole pipeline in process (no broker) in as many processes
    as the end-to-end phase has workers; peak RSS of single-role processes."""
    timeout = config.worker_ready_timeout_s
    pipeline = {str(n): inprocess_pipeline(settings, config, work, n) for n in config.e2e_worker_counts}
    one = run_probes(settings, "describe", work / "describe.bin", config.scaling_ads, 1, work, config.threads, timeout)
    two = run_probes(settings, "describe", work / "describe.bin", config.scaling_ads, 2, work, config.threads, timeout)
    roles = {"describe": max(r["peak_rss_mb"] or 0 for r in one + two)}
    for name in ("features", "classify"):
        roles[name] = run_probes(settings, name, work / f"{name}.bin", config.rss_ads, 1, work, config.threads,
                                 timeout)[0]["peak_rss_mb"]
    rate1, rate2 = combined_rate(one), combined_rate(two)
    return {"describe_1proc_ads_per_s": rate1, "describe_2proc_ads_per_s": rate2, "scaling_2proc": rate2 / rate1,
            "describe_cpu_seconds_per_ad_probe": one[0]["cpu_seconds_per_ad"], "role_rss_mb": roles,
            "pipeline_ads_per_s": pipeline}


def assemble(settings: Settings, config: BenchConfig, local: dict, procs: dict, e2e: dict | None) -> dict:
    """The result file's content: the raw measurements and the ratios and targets derived from them."""
    cpu = local["stages"]["cpu"]
    classify_rate = max(p["ads_per_s"] for p in cpu["classify"]["points"])
    batches = {spec.name: spec.max_batch(settings, on_gpu=False) for spec in PIPELINE}  # the CPU sweep's batches
    stage_rates = {n: ratios.rate_at_batch(cpu[n]["points"], batches[n]) for n in batches}
    chain1 = ratios.chain_rate(list(stage_rates.values()))
    pipelined = {n: figures["ads_per_s"] for n, figures in procs.get("pipeline_ads_per_s", {}).items()}
    describe_b1 = min(cpu["describe"]["points"], key=lambda p: p["batch"])
    result: dict = {
        "describe": {"cpu_seconds_per_ad": describe_b1["cpu_seconds_per_ad"],
                     "ads_per_s": describe_b1["ads_per_s"], "steps": local["describe_steps"],
                     "scaling_2proc": procs.get("scaling_2proc"),
                     "ads_per_s_1proc": procs.get("describe_1proc_ads_per_s"),
                     "ads_per_s_2proc": procs.get("describe_2proc_ads_per_s")},
        "classify": {"flops_per_ad": local["classify_flops_per_ad"], "ads_per_s": classify_rate,
                     "matmul_flops_per_s": local["matmul_flops_per_s"],
                     "matmul_efficiency": ratios.matmul_efficiency(local["classify_flops_per_ad"], classify_rate,
                                                                   local["matmul_flops_per_s"]),
                     "fused_view": local["fused_view"], "sn_over_s_latency": local["fused_view"]["sn_over_s"]},
        "stages": local["stages"],
        "batching": {dev: {n: s["batching"] for n, s in st.items()} for dev, st in local["stages"].items()},
        "batch_defaults": {dev: ratios.batch_defaults(st) for dev, st in local["stages"].items()},
        "memory": {f"{role}_rss_mb": mb for role, mb in procs.get("role_rss_mb", {}).items()},
        "pipeline": {"inprocess_chain_ads_per_s": chain1, "inprocess_pipelined_ads_per_s": pipelined,
                     "inprocess_pipelined_cpu_seconds_per_ad": {n: f["cpu_seconds_per_ad"] for n, f in
                                                                procs.get("pipeline_ads_per_s", {}).items()},
                     "inprocess_pipelined_runs": {n: f.get("runs_ads_per_s") for n, f in
                                                  procs.get("pipeline_ads_per_s", {}).items()},
                     "slowest_stage": min(stage_rates, key=stage_rates.get),
                     "slowest_stage_ads_per_s": min(stage_rates.values()), "batch_settings": batches},
    }
    result["memory"]["bench_process_rss_mb"] = local["inprocess_rss_mb"]
    if e2e is not None:
        phases = {p["workers"]: p for p in e2e["phases"]}
        first = phases[min(phases)]
        loads = {l["fraction"]: l for l in first["loads"]}
        headline = loads.get(0.5) or (first["loads"][0] if first["loads"] else {})
        overhead = {str(n): p["throughput_ads_per_s"] / pipelined[str(n)] for n, p in phases.items()
                    if str(n) in pipelined}
        result["pipeline"].update({
            "throughput_ads_per_s": max(p["throughput_ads_per_s"] for p in phases.values()),
            "throughput_by_workers": {str(n): p["throughput_ads_per_s"] for n, p in phases.items()},
            "overhead_ratio": overhead.get("1"), "overhead_ratio_by_workers": overhead,
            "over_slowest_stage": phases[1]["throughput_ads_per_s"] / min(stage_rates.values()) if 1 in phases else None,
            "over_chain": phases[1]["throughput_ads_per_s"] / chain1 if 1 in phases else None,
            **cpu_bound_figures(phases.get(1), result["pipeline"]["inprocess_pipelined_cpu_seconds_per_ad"].get("1")),
            "latency_p50_s": headline.get("latency_p50_s"), "latency_p95_s": headline.get("latency_p95_s"),
            "latency_p99_s": headline.get("latency_p99_s"), "phases": e2e["phases"]})
        result["memory"]["all_stages_rss_mb"] = max(r for p in phases.values() for r in p["peak_rss_mb"] if r)
    result["targets"] = ratios.targets(result)
    return result


def cpu_bound_figures(phase: dict | None, inprocess_cpu: float | None) -> dict:
    """How the 1-worker phase's CPU compares with the in-process pipeline's, per ad.

    ``overhead_ceiling``: the best streaming-overhead ratio a worker without any overhead of its own
    could reach when the cores are the limit and the broker and the load generator (publisher and
    result follower) share them, as on a one-machine benchmark.
    """
    if not phase or not phase.get("cpu") or not inprocess_cpu:
        return {}
    per_ad = phase["cpu"]["cpu_seconds_per_ad"]
    shared = per_ad.get("broker", 0.0) + per_ad.get("bench", 0.0)
    worker = sum(v for k, v in per_ad.items() if k.startswith("worker"))
    return {"worker_cpu_over_inprocess": worker / inprocess_cpu,
            "overhead_ceiling": ratios.cpu_ceiling(inprocess_cpu, shared)}


def served_model(settings: Settings) -> tuple[Settings, str]:
    """The checkpoint the workers serve; without one, the untrained heads (same architecture, same cost)."""
    from model.resolve import checkpoint_source

    source = checkpoint_source(settings)
    if source is not None:  # pinned by absolute path: the end-to-end phase has a state dir of its own
        return settings.model_copy(update={"checkpoint_dir": source.resolve()}), f"checkpoint {source.resolve()}"
    return settings.model_copy(update={"allow_untrained_model": True}), "offline default, untrained heads"


def run(settings: Settings, config: BenchConfig, out: Path, mode: str, command: str) -> dict:
    """Measure everything ``config`` asks for; scratch files (records, probe and worker logs) go to ``out/work``."""
    import torch

    torch.set_num_threads(config.threads)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    info = machine_info()
    settings = settings.model_copy(update={"device": "cpu" if not torch.cuda.is_available() else settings.device})
    settings, model = served_model(settings)
    pool = image_pool(POOL_SIZE)
    log.info("in-process stages")
    local = in_process(settings, config, pool, work)
    log.info("describe in 1 and 2 processes; memory per role")
    procs = processes(settings, config, work)
    e2e = None
    if config.end_to_end:
        log.info("end to end through the broker")
        from streams.bench.pipeline import run_end_to_end

        e2e = run_end_to_end(settings, pool, config, work)
    result = assemble(settings, config, local, procs, e2e)
    result.update({"model": model, "mode": mode, "command": command, "machine": info, "threads": config.threads,
                   "load_average_end": load_average(), "seconds": round(time.time() - started, 1),
                   "config": {k: v for k, v in vars(config).items()}})
    return result

