"""Does a sampled series keep growing? Least-squares slopes over the judged part of a run.

A soak fails on growth only when two things hold at once: the fitted slope over the judged span
(by default the second half of the load) is above a rate, and the level that slope leads to is
large enough to matter. Noise around a flat line gives small slopes; a short noisy run that
still fits a steep slope is caught by the level guard.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

MIN_POINTS = 3  # fewest samples a slope is fitted to
FINAL_TAIL = 3  # samples whose median is a series' final level (one spike does not decide)


@dataclass(frozen=True)
class Growth:
    """The verdict on one series: its slope per minute, the level judged and whether it keeps growing."""

    series: str
    unit: str
    points: int
    slope_per_min: float | None
    level: float | None  # lag: the final level; RSS: the fitted rise over the judged span
    level_name: str
    max_slope_per_min: float
    max_level: float
    grows: bool

    def text(self) -> str:
        """One line for the summary."""
        if self.slope_per_min is None:
            return f"{self.series}: too few samples to judge ({self.points})"
        verdict = "KEEPS GROWING" if self.grows else "steady"
        return (f"{self.series}: {verdict}: slope {self.slope_per_min:+.2f} {self.unit}/min (limit "
                f"{self.max_slope_per_min:g}), {self.level_name} {self.level:.1f} {self.unit} "
                f"(limit {self.max_level:g})")

    def as_dict(self) -> dict:
        return asdict(self)


def slope_per_min(times_s: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against ``times_s`` (seconds), in units per minute."""
    if len(times_s) != len(values) or len(times_s) < 2:
        raise ValueError("a slope needs at least two (time, value) pairs")
    mean_t, mean_v = statistics.fmean(times_s), statistics.fmean(values)
    spread = sum((t - mean_t) ** 2 for t in times_s)
    if spread == 0:
        raise ValueError("a slope needs samples at more than one time")
    return 60.0 * sum((t - mean_t) * (v - mean_v) for t, v in zip(times_s, values)) / spread


def judged(times_s: Sequence[float], values: Sequence[float | None], from_s: float) -> tuple[list[float], list[float]]:
    """The samples taken at or after ``from_s`` that have a value."""
    pairs = [(t, v) for t, v in zip(times_s, values) if t >= from_s and v is not None]
    return [t for t, _ in pairs], [v for _, v in pairs]


def lag_growth(times_s: Sequence[float], lags: Sequence[float | None], from_s: float, max_slope_per_min: float,
               max_final: float) -> Growth:
    """Lag keeps growing when its slope since ``from_s`` exceeds ``max_slope_per_min`` messages a minute
    and its final level (median of the last samples) exceeds ``max_final`` messages."""
    t, v = judged(times_s, lags, from_s)
    if len(t) < MIN_POINTS:
        return Growth("consumer lag", "msgs", len(t), None, None, "final", max_slope_per_min, max_final, False)
    slope, final = slope_per_min(t, v), statistics.median(v[-FINAL_TAIL:])
    return Growth("consumer lag", "msgs", len(t), slope, final, "final", max_slope_per_min, max_final,
                  slope > max_slope_per_min and final > max_final)


def rss_growth(times_s: Sequence[float], rss_mb: Sequence[float | None], from_s: float, max_slope_per_min: float,
               max_rise_mb: float) -> Growth:
    """RSS keeps growing when its slope since ``from_s`` exceeds ``max_slope_per_min`` MB a minute and
    the rise that slope fits over the judged span exceeds ``max_rise_mb``."""
    t, v = judged(times_s, rss_mb, from_s)
    if len(t) < MIN_POINTS:
        return Growth("worker RSS", "MB", len(t), None, None, "fitted rise", max_slope_per_min, max_rise_mb, False)
    slope = slope_per_min(t, v)
    rise = slope * (t[-1] - t[0]) / 60.0
    return Growth("worker RSS", "MB", len(t), slope, rise, "fitted rise", max_slope_per_min, max_rise_mb,
                  slope > max_slope_per_min and rise > max_rise_mb)
