"""Sampling profiles of a worker under load (py-spy), summarised per thread and per function."""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from streams.bench.inprocess import BenchError


def py_spy() -> str:
    """The py-spy executable (installed with the ``dev`` extra)."""
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise BenchError("py-spy is not installed; install the dev extra (pip install -e '.[dev]') or drop --profile")
    return found


class Profiler:
    """``py-spy record`` attached to a process from :meth:`start` to :meth:`stop`; raw (collapsed) stacks."""

    def __init__(self, pid: int, out: Path, rate_hz: int) -> None:
        self.out = out
        self._log = open(out.with_suffix(".log"), "wb")
        self.process = subprocess.Popen(
            [py_spy(), "record", "--pid", str(pid), "--rate", str(rate_hz), "--format", "raw", "--threads",
             "--nonblocking", "-o", str(out)], stdout=self._log, stderr=subprocess.STDOUT)

    def stop(self, timeout_s: float = 60.0) -> Path:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            self.process.wait(timeout_s)
        finally:
            self._log.close()
        if not self.out.exists():
            raise BenchError(f"py-spy wrote no profile (needs ptrace rights); see {self.out.with_suffix('.log')}")
        return self.out


def _frame(frame: str) -> str:
    """``name (path/to/module.py:line)`` -> ``name (module.py)``: functions, not lines."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':')[0]).name})" if where else name


def summarize(path: Path, top: int = 6) -> dict:
    """Share of the busy samples per thread, and the functions each thread was in (self time), from raw stacks."""
    threads: collections.Counter = collections.Counter()
    leaves: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1] if frames[0].startswith("thread") else "?"
        thread = re.sub(r"_\d+$", "", thread)  # executor threads: adsent-describe_0 -> adsent-describe
        n = int(count)
        total += n
        threads[thread] += n
        leaves[thread][_frame(frames[-1])] += n
    if not total:
        raise BenchError(f"the profile {path} has no samples")
    return {"samples": total,
            "threads": {name: {"share": n / total,
                               "top": {f: k / total for f, k in leaves[name].most_common(top)}}
                        for name, n in threads.most_common()}}
