"""Real worker processes for end-to-end tests: start, wait until ready, scrape, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from schemas.settings import Settings
from tests.conftest import free_port

ADSENT = Path(sys.executable).parent / "adsent"


def pipeline_settings(broker: Settings, name: str, **overrides: object) -> Settings:
    """Settings on the shared test broker with topics and consumer groups of this test alone."""
    topics = {f"topic_{kind}": f"{name}.ads.{kind}" for kind in ("uploaded", "described", "features", "sentiment",
                                                                 "deadletter")}
    return broker.model_copy(update={**topics, "kafka_consumer_group": f"adsent-{name}", "partitions_uploaded": 2,
                                     "partitions_described": 2, "partitions_features": 2, "partitions_sentiment": 2,
                                     "describe_max_batch": 4, "retry_backoff_s": 0.05,
                                     "allow_untrained_model": True, **overrides})


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a subprocess load exactly these settings."""
    env = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or value == field.default:
            continue
        if isinstance(value, tuple):
            import json

            value = json.dumps(list(value))
        elif hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"ADSENT_{name.upper()}"] = str(value)
    return env


class Worker:
    """`adsent worker` in a subprocess with its own metrics port and log file."""

    def __init__(self, settings: Settings, stages: str, log_dir: Path, name: str = "worker") -> None:
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        env = {**os.environ, **settings_env(settings), "ADSENT_METRICS_PORT": str(self.port),
               "ADSENT_METRICS_HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(ADSENT), "worker", "--stages", stages], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout_s: float = 240.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"worker not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        with urllib.request.urlopen(self.url("/metrics"), timeout=5) as response:
            text = response.read().decode()
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, timeout_s: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
