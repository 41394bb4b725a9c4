"""``adsent worker`` as a child process: start it with given settings, wait until ready, scrape, stop.

Used by the demo, the benchmark and the end-to-end tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from schemas.settings import Settings

ADSENT = Path(sys.executable).parent / "adsent"
POLL_S = 0.2


class WorkerProcessError(RuntimeError):
    """The worker exited or did not become ready; the message names its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def settings_env(settings: Settings, threads: int | None = None) -> dict[str, str]:
    """This environment, minus ADSENT_*, plus what makes a child load exactly ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADSENT_")}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or value == field.default:
            continue
        if isinstance(value, tuple):
            value = json.dumps(list(value))  # pydantic-settings reads lists as JSON
        elif hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"ADSENT_{name.upper()}"] = str(value)
    if threads:
        env.update({"ADSENT_TORCH_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
                    "MKL_NUM_THREADS": str(threads)})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WorkerProcess:
    """One worker subprocess with its own metrics port (a free one unless given) and log file."""

    def __init__(self, settings: Settings, stages: str, log_path: Path, threads: int | None = None,
                 port: int | None = None, command: Sequence[str] | None = None,
                 extra_env: Mapping[str, str] | None = None) -> None:
        """``command`` replaces ``adsent worker --stages STAGES`` (e.g. a worker with injected faults)."""
        self.host = "127.0.0.1"
        self.port = port or free_port()
        env = settings_env(settings, threads)
        env.update({"ADSENT_METRICS_PORT": str(self.port), "ADSENT_METRICS_HOST": self.host, **(extra_env or {})})
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(list(command or [str(ADSENT), "worker", "--stages", stages]), env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def wait_ready(self, timeout_s: float = 300.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(POLL_S)
        raise WorkerProcessError(f"the worker was not ready after {timeout_s:.0f} s; log {self.log_path}:\n"
                                 + self.log_tail())

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise WorkerProcessError(f"the worker exited with {self.process.returncode}; log {self.log_path}:\n"
                                     + self.log_tail())

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics, keyed by (name, sorted labels)."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(self.url("/metrics"), timeout=5) as response:
            text = response.read().decode()
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def terminate(self) -> None:
        """Ask the worker to stop (SIGTERM) without waiting for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, so the worker finishes or releases its batch; SIGKILL only if it hangs."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self._log.closed:
            self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        if not self._log.closed:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stop_all(workers: list[WorkerProcess], timeout_s: float = 60.0) -> list[int | None]:
    """Stop workers together: SIGTERM to all first, then wait for each.

    One by one, each leaving worker triggers a rebalance that the next one is stopped in the middle
    of; the embedded broker then kept a worker from stopping for the whole timeout.
    """
    for worker in workers:
        worker.terminate()
    return [worker.stop(timeout_s) for worker in workers]
