"""Ratios of figures measured in the same run, the batch defaults they imply, and the targets of the service."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.pipeline import PIPELINE

# (dotted result key, comparison, threshold): the targets on a 2-core CPU machine.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("classify.matmul_efficiency", ">=", 0.5),
    ("pipeline.overhead_ratio", ">=", 0.9),
    ("describe.scaling_2proc", ">=", 1.7),
    ("describe.cpu_seconds_per_ad", "<=", 0.25),
    ("memory.all_stages_rss_mb", "<=", 2560.0),
)


def lookup(result: dict, dotted: str):
    """``result["a"]["b"]`` for ``"a.b"``; None when any part is missing."""
    value = result
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def targets(result: dict) -> list[dict]:
    """Each target with its measured value and whether it is met (None: not measured in this run)."""
    out = []
    for key, op, threshold in TARGETS:
        value = lookup(result, key)
        met = None if value is None else (value >= threshold if op == ">=" else value <= threshold)
        out.append({"key": key, "target": f"{op} {threshold:g}", "value": value, "met": met})
    return out


def matmul_efficiency(flops_per_ad: float, ads_per_s: float, matmul_flops_per_s: float) -> float:
    """Share of the machine's dense matmul rate that classifying achieves."""
    return flops_per_ad * ads_per_s / matmul_flops_per_s


def chain_rate(rates: Sequence[float]) -> float:
    """Ads per second of stages run one after another in one process: 1 / sum of seconds per ad."""
    return 1.0 / sum(1.0 / r for r in rates)


def rate_at_batch(points: Sequence[dict], batch: int) -> float:
    """Throughput at the largest measured batch size not above ``batch`` (the smallest measured one else)."""
    below = [p for p in points if p["batch"] <= batch]
    chosen = max(below, key=lambda p: p["batch"]) if below else min(points, key=lambda p: p["batch"])
    return chosen["ads_per_s"]


def batch_defaults(stages: dict) -> dict[str, int]:
    """``*_max_batch`` settings from the measured best batch of each stage."""
    return {spec.batch_setting: stages[spec.name]["best_batch"] for spec in PIPELINE if spec.name in stages}


def cpu_ceiling(work_cpu: float, shared_cpu: float) -> float:
    """Throughput kept when every unit of work also costs ``shared_cpu`` elsewhere on the same saturated cores."""
    return work_cpu / (work_cpu + shared_cpu)
