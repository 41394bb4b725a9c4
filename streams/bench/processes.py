"""Child processes of a run: probes and ``adsent worker`` subprocesses, with the settings passed by environment."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from schemas.settings import Settings
from streams.bench.inprocess import BenchError
from streams.bench.machine import peak_rss_mb
from streams.ops.worker_process import POLL_S, WorkerProcess, settings_env


class Probe:
    """``python -m streams.bench.probe`` in a subprocess."""

    def __init__(self, settings: Settings, stages: str, records: Path, ads: int, out: Path, threads: int,
                 start_file: Path | None, concurrent: bool = False, repeats: int = 1) -> None:
        self.out = out
        self.ready = out.with_name(out.name + ".ready")
        command = [sys.executable, "-m", "streams.bench.probe", "--stages", stages, "--records", str(records),
                   "--ads", str(ads), "--out", str(out), "--threads", str(threads)]
        if start_file is not None:
            command += ["--start-file", str(start_file)]
        if concurrent:
            command.append("--concurrent")
        if repeats > 1:
            command += ["--repeats", str(repeats)]
        self._log = open(out.with_suffix(".log"), "wb")
        self.process = subprocess.Popen(command, env=settings_env(settings, threads), stdout=self._log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready.exists():
            if self.process.poll() is not None:
                raise BenchError(f"probe exited with {self.process.returncode}; see {self.out.with_suffix('.log')}")
            if time.monotonic() > deadline:
                raise BenchError(f"probe not ready after {timeout_s:.0f} s")
            time.sleep(POLL_S)

    def result(self, timeout_s: float) -> dict:
        try:
            code = self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self._log.close()
        if code != 0:
            raise BenchError(f"probe exited with {code}; see {self.out.with_suffix('.log')}")
        return json.loads(self.out.read_text())


def run_probes(settings: Settings, stages: str, records: Path, ads: int, copies: int, work: Path, threads: int,
               timeout_s: float, concurrent: bool = False, repeats: int = 1) -> list[dict]:
    """``copies`` probes that start timing together; their results."""
    name = f"{stages.replace(',', '+')}{'-concurrent' if concurrent else ''}-{copies}"
    start = work / f"start-{name}"
    probes = [Probe(settings, stages, records, ads, work / f"probe-{name}-{i}.json", threads, start, concurrent,
                    repeats) for i in range(copies)]
    try:
        for probe in probes:
            probe.wait_ready(timeout_s)
        start.write_text("go")
        return [probe.result(timeout_s) for probe in probes]
    finally:
        for probe in probes:
            if probe.process.poll() is None:
                probe.process.kill()
                probe.process.wait(10)


def combined_rate(results: list[dict]) -> float:
    """Ads per second of probes that ran together: all their ads over the span from first start to last end."""
    span = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return sum(r["ads"] for r in results) / span


class BenchWorker(WorkerProcess):
    """A worker subprocess whose peak memory the benchmark reads."""

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.process.pid)
