"""The machine a run measured: CPU, cores, load, the dense matmul rate, process CPU time and peak RSS."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (others' jobs show up here: the machine is shared)."""
    return tuple(round(v, 2) for v in os.getloadavg())  # type: ignore[return-value]


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of another process (all its threads); None where /proc is unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory field of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``) in MiB; None where /proc has no answer."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident memory (VmHWM) of a process in MiB; None where /proc is unavailable."""
    return status_mb("VmHWM", pid or "self")


def machine_info() -> dict:
    """What the report prints about the machine."""
    import torch

    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "load_average_start": load_average()}
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    except (ValueError, OSError):
        info["memory_gb"] = None
    return info


def matmul_flops_per_s(side: int, repeats: int, device: str = "cpu", dtype: str = "float32") -> float:
    """Dense ``side x side`` matmul rate (FLOP/s, best of ``repeats``) with torch's current threads."""
    import torch

    kind = getattr(torch, dtype)
    a = torch.randn(side, side, dtype=kind, device=device)
    b = torch.randn(side, side, dtype=kind, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.mm(a, b)
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2.0 * side**3 / best
