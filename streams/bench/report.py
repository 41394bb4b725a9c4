"""The Markdown report of a result: machine, targets, stages per batch size, describe steps, end to end."""

from __future__ import annotations


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(head: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + \
           ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]


def render(result: dict) -> str:
    """Markdown with every figure of ``result`` a reader needs, and the command that reproduces it."""
    m = result.get("machine", {})
    lines = [f"# adsent benchmark ({result.get('mode', '?')} mode)", "",
             f"Reproduce: `{result.get('command', 'adsent bench')}`", "",
             f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB, GPU: {m.get('gpu') or 'none'}; "
             f"torch {m.get('torch')}, {result.get('threads')} thread(s) per process, fp32. Load average at start "
             f"{m.get('load_average_start')}, at end {result.get('load_average_end')} (a shared machine: prefer the ratios).",
             "", "## Targets", ""]
    lines += _table(["figure", "target", "measured", "met"],
                    [[t["key"], t["target"], t["value"], {True: "yes", False: "no", None: "not measured"}[t["met"]]]
                     for t in result.get("targets", [])])
    pipe, desc, cls = result.get("pipeline", {}), result.get("describe", {}), result.get("classify", {})
    lines += ["", "## Headline figures", ""]
    lines += _table(["figure", "value"], [
        ["end-to-end throughput (ads/s, best worker count)", pipe.get("throughput_ads_per_s")],
        ["end-to-end latency p50 / p95 / p99 at 50% load (s)",
         f"{_f(pipe.get('latency_p50_s'))} / {_f(pipe.get('latency_p95_s'))} / {_f(pipe.get('latency_p99_s'))}"],
        ["in-process pipeline, no broker (ads/s, by processes)", _by_count(pipe.get("inprocess_pipelined_ads_per_s"))],
        ["streaming overhead (end to end / in-process pipeline, by workers)", _by_count(pipe.get("overhead_ratio_by_workers"))],
        ["each run, 1 process: in-process pipeline / end to end (ads/s; the medians are used)",
         f"{_runs(pipe.get('inprocess_pipelined_runs', {}).get('1'))} / "
         f"{_runs(next((p.get('bursts_ads_per_s') for p in pipe.get('phases', []) if p['workers'] == 1), None))}"],
        ["CPU s per ad: in-process pipeline (1 process); 1 worker over it",
         f"{_f((pipe.get('inprocess_pipelined_cpu_seconds_per_ad') or {}).get('1'))}; "
         f"{_f(pipe.get('worker_cpu_over_inprocess'))}"],
        ["overhead ceiling on shared cores (in-process CPU / (it + broker + load generator))",
         pipe.get("overhead_ceiling")],
        ["in-process chain, stages one after another (ads/s)", pipe.get("inprocess_chain_ads_per_s")],
        [f"slowest stage alone ({pipe.get('slowest_stage')}, ads/s); 1 worker over it",
         f"{_f(pipe.get('slowest_stage_ads_per_s'))}; {_f(pipe.get('over_slowest_stage'))}"],
        ["describe CPU s per ad (batch 1)", desc.get("cpu_seconds_per_ad")],
        ["describe ads/s, 1 process / 2 processes", f"{_f(desc.get('ads_per_s_1proc'))} / {_f(desc.get('ads_per_s_2proc'))}"],
        ["describe scaling, 2 processes / 1", desc.get("scaling_2proc")],
        ["classify GFLOP per ad", (cls.get("flops_per_ad") or 0) / 1e9],
        ["matmul GFLOP/s (same threads, fp32)", (cls.get("matmul_flops_per_s") or 0) / 1e9],
        ["classify matmul efficiency", cls.get("matmul_efficiency")],
        ["fused view S+N latency / S latency (batch 1)", cls.get("sn_over_s_latency")],
    ])
    lines += ["", "## Memory (peak RSS, MB)", ""]
    lines += _table(["process", "MB"], [[k.removesuffix("_rss_mb"), v] for k, v in result.get("memory", {}).items()])
    lines += ["", "## Describe steps (one ad at a time, seconds per ad)", ""]
    lines += _table(["step", "wall s", "CPU s"], [[k, v["wall_s"], v["cpu_s"]] for k, v in desc.get("steps", {}).items()])
    for device, stages in result.get("stages", {}).items():
        lines += ["", f"## Stages in process on {device}", ""]
        rows = [[name, p["batch"], p["ads_per_s"], stage["batching"][str(p["batch"])], p["latency_p50_s"],
                 p["latency_p95_s"], p["cpu_seconds_per_ad"]]
                for name, stage in stages.items() for p in stage["points"]]
        lines += _table(["stage", "batch", "ads/s", "x batch 1", "batch latency p50 s", "p95 s", "CPU s/ad"], rows)
        defaults = result.get("batch_defaults", {}).get(device, {})
        lines += ["", "Best batch (smallest within 5% of the highest throughput): " +
                  ", ".join(f"`{k}={v}`" for k, v in defaults.items())]
    if pipe.get("phases"):
        lines += ["", "## End to end through the embedded broker (all-stages workers)", ""]
        rows = [[p["workers"], "max (burst)", p["throughput_ads_per_s"], p["burst_ads"], "-", "-", "-"]
                for p in pipe["phases"]]
        rows += [[p["workers"], f"{l['fraction']:.0%}", l["rate_ads_per_s"], l["ads"], l["latency_p50_s"],
                  l["latency_p95_s"], l["latency_p99_s"]] for p in pipe["phases"] for l in p["loads"]]
        lines += _table(["workers", "load", "ads/s", "ads", "p50 s", "p95 s", "p99 s"], rows)
        lines += ["", "CPU seconds per ad during the burst, and how busy the machine's cores were:", ""]
        lines += _table(["workers", "CPU s per ad", "cores busy"],
                        [[p["workers"], ", ".join(f"{k} {v:.3f}" for k, v in p["cpu"]["cpu_seconds_per_ad"].items()),
                          p["cpu"]["machine_busy_share"]] for p in pipe["phases"] if p.get("cpu")])
        lines += _profile(next((p["profile"] for p in pipe["phases"] if p.get("profile")), None))
    return "\n".join(lines) + "\n"


def _runs(values: list | None) -> str:
    return ", ".join(_f(v) for v in values) if values else "-"


def _by_count(values: dict | None) -> str:
    return ", ".join(f"{n}: {_f(v)}" for n, v in (values or {}).items()) or "-"


def _profile(profile: dict | None) -> list[str]:
    """Per-thread busy share and top functions of the sampled 1-worker burst."""
    if not profile:
        return []
    lines = ["", f"## Profile of one worker under a burst (py-spy, {profile['samples']} busy samples, "
                 f"{_f(profile['throughput_ads_per_s'])} ads/s while sampled; raw stacks: `{profile['file']}`)", ""]
    rows = [[thread, info["share"], "; ".join(f"{name} {share:.1%}" for name, share in info["top"].items())]
            for thread, info in profile["threads"].items()]
    return lines + _table(["thread", "share of busy samples", "top functions (self, share of all samples)"], rows)
