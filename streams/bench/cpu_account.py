"""Where the CPU goes while ads stream: seconds per ad of the workers, the broker and the benchmark itself."""

from __future__ import annotations

from collections.abc import Mapping

from streams.bench.machine import cpu_seconds, process_cpu_seconds


class CpuAccount:
    """CPU seconds of named processes (and of this one) between :meth:`start` and :meth:`stop`."""

    SELF = "bench"  # this process: the publisher and the result follower

    def __init__(self, pids: Mapping[str, int | None]) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}
        self._start: dict[str, float | None] = {}

    def _now(self) -> dict[str, float | None]:
        return {**{name: process_cpu_seconds(pid) for name, pid in self.pids.items()}, self.SELF: cpu_seconds()}

    def start(self) -> None:
        self._start = self._now()

    def stop(self, ads: int, wall_s: float, cores: int) -> dict:
        """CPU seconds per ad of each process, and the share of the machine's cores they used together."""
        end = self._now()
        used = {name: end[name] - self._start[name] for name in end
                if end[name] is not None and self._start.get(name) is not None}
        return {"cpu_seconds_per_ad": {name: seconds / ads for name, seconds in used.items()},
                "machine_busy_share": sum(used.values()) / (wall_s * cores) if wall_s > 0 else None}
