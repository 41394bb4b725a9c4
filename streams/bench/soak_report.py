"""A soak's verdict (growth, every ad accounted for) and how it reads: console lines and Markdown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from streams.bench.growth import lag_growth, rss_growth
from streams.bench.report import _f, _table
from streams.bench.soak_config import SoakConfig

MISSING_SHOWN = 10  # missing ad ids listed by name


def accounting(ids: Sequence[str], results: Mapping[str, object], dead: Mapping[str, str]) -> dict:
    """What became of every published ad: a result, a dead letter (by code) or nothing (missing)."""
    dead_ids = [a for a in ids if a not in results and a in dead]
    missing = [a for a in ids if a not in results and a not in dead]
    return {"published": len(ids), "results": sum(1 for a in ids if a in results), "dead_letters": len(dead_ids),
            "dead_letter_codes": dict(Counter(dead[a] for a in dead_ids)), "missing": len(missing),
            "missing_ids": missing[:MISSING_SHOWN]}


def verdict(samples: Sequence[dict], config: SoakConfig, ads: dict, failures: Sequence[str]) -> dict:
    """Growth of lag and RSS over the judged load samples, and whether the soak passed."""
    load = [s for s in samples if s["phase"] == "load"]
    times = [s["t_s"] for s in load]
    lag = lag_growth(times, [s["lag"] for s in load], config.judge_from_s, config.max_lag_slope_per_min,
                     config.max_final_lag)
    rss = rss_growth(times, [s["rss_mb"] for s in load], config.judge_from_s, config.max_rss_slope_mb_per_min,
                     config.max_rss_rise_mb)
    reasons = list(failures)
    reasons += [f"{g.series} keeps growing" for g in (lag, rss) if g.grows]
    reasons += [f"{g.series} not judged: too few samples" for g in (lag, rss) if g.slope_per_min is None]
    if ads["missing"]:
        reasons.append(f"{ads['missing']} of {ads['published']} ads had neither a result nor a dead letter")
    return {"lag": lag.as_dict(), "rss": rss.as_dict(), "lines": [lag.text(), rss.text()],
            "passed": not reasons, "failures": reasons}


def summary_lines(result: dict) -> list[str]:
    """What the soak prints when it ends."""
    ads, rate, lat, v = result["ads"], result["rate"], result["latency"], result["verdict"]
    codes = ", ".join(f"{k} {n}" for k, n in ads["dead_letter_codes"].items())
    lines = [f"soak {'PASSED' if v['passed'] else 'FAILED'}: {result['config']['duration_s']:.0f} s at "
             f"{_f(rate['achieved_ads_per_s'])} ads/s (target {_f(rate['target_ads_per_s'])}, {rate['source']})",
             f"ads published {ads['published']}, results {ads['results']}, dead-lettered {ads['dead_letters']}"
             f"{f' ({codes})' if codes else ''}, missing {ads['missing']}"
             f"{' e.g. ' + ', '.join(ads['missing_ids']) if ads['missing_ids'] else ''}",
             f"end-to-end latency p50 / p95 / p99: all {_latency(lat['all'])} s; "
             f"judged span {_latency(lat['judged'])} s",
             *v["lines"],
             f"worker peak RSS {_f(result.get('worker_peak_rss_mb'))} MB"]
    return lines + [f"failed: {reason}" for reason in v["failures"]]


def _latency(summary: dict) -> str:
    return " / ".join(_f(summary.get(f"latency_p{q}_s")) for q in (50, 95, 99))


def render(result: dict) -> str:
    """Markdown: the command, the verdict and the time series, one row per sample."""
    machine = result.get("machine", {})
    lines = ["# adsent soak", "", f"Reproduce: `{result.get('command', 'adsent bench soak')}`", "",
             f"Model: {result.get('model')}. Machine: {machine.get('cpu')}, {machine.get('cores')} cores; load "
             f"average at start {machine.get('load_average_start')}, at end {result.get('load_average_end')} (others' "
             "jobs on a shared machine slow the worker: read the lag with them).",
             "", "## Verdict", ""] + [f"- {line}" for line in summary_lines(result)]
    lines += ["", "## Samples", ""]
    rows = [[s["t_s"], s["phase"], s["published"], s["results"], s["dead_letters"], s["results_per_s"], s["lag"],
             s["rss_mb"], s["broker_rss_mb"], s["latency_p50_s"], s["latency_p95_s"], s["latency_p99_s"]]
            for s in result["samples"]]
    lines += _table(["t s", "phase", "published", "results", "dead", "results/s", "lag msgs", "worker RSS MB",
                     "broker RSS MB", "p50 s", "p95 s", "p99 s"], rows)
    return "\n".join(lines) + "\n"
