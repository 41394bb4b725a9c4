"""A real Prometheus scrapes a real describe worker with the project's scrape config and rules."""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ADSENT = Path(sys.executable).parent / "adsent"
READY_TIMEOUT_S = 180.0   # the describe stage loads and warms real models
SCRAPE_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
JOB = "adsent-describe"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, process: subprocess.Popen, log: Path) -> Any:
    """Poll ``check`` until it returns something truthy; fail early when ``process`` died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what}: process exited with {process.returncode}\n{log.read_text()[-4000:]}")
        result = check()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout_s:.0f} s\n{log.read_text()[-4000:]}")


def scrape_config(metrics_port: int) -> dict:
    """The project's Compose config with the worker as a static target and a 1 s interval."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    (job,) = [copy.deepcopy(j) for j in config["scrape_configs"] if j["job_name"] == JOB]
    job.pop("dns_sd_configs")
    job["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
    config["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"})
    config["rule_files"] = [str(PROMETHEUS_DIR / rule) for rule in config["rule_files"]]
    config["scrape_configs"] = [job]
    return config


def query(prom_port: int, expr: str) -> list[dict]:
    url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = http_get(url)
    if status != 200:
        return []
    payload = json.loads(body)
    assert payload["status"] == "success", payload
    return payload["data"]["result"]


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus missing: install Debian's prometheus (make system-deps)")
def test_prometheus_scrapes_a_real_worker(broker_settings, tmp_path: Path) -> None:
    metrics_port, prom_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADSENT_")}
    env.update({
        "ADSENT_STATE_DIR": str(broker_settings.state_dir),
        "ADSENT_BROKER_PORT": str(broker_settings.broker_port),
        "ADSENT_METRICS_HOST": "127.0.0.1",
        "ADSENT_METRICS_PORT": str(metrics_port),
    })
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(scrape_config(metrics_port)))
    worker_log, prom_log = tmp_path / "worker.log", tmp_path / "prometheus.log"
    worker = prometheus = None
    try:
        with worker_log.open("w") as out:
            worker = subprocess.Popen([str(ADSENT), "worker", "--stages", "describe"], env=env, cwd=tmp_path,
                                      stdout=out, stderr=subprocess.STDOUT)
        wait_for("worker /readyz", lambda: http_get(f"http://127.0.0.1:{metrics_port}/readyz")[0] == 200,
                 READY_TIMEOUT_S, worker, worker_log)

        with prom_log.open("w") as out:
            prometheus = subprocess.Popen(
                [PROMETHEUS, f"--config.file={config_path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prom_port}"], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        ready = wait_for("adsent_worker_ready through Prometheus",
                         lambda: query(prom_port, f'adsent_worker_ready{{job="{JOB}"}} == 1'),
                         SCRAPE_TIMEOUT_S, prometheus, prom_log)
        assert ready[0]["metric"]["instance"] == f"127.0.0.1:{metrics_port}"

        (info,) = query(prom_port, f'adsent_model_info{{job="{JOB}"}}')
        assert info["metric"]["stages"] == "describe"
        assert query(prom_port, f'up{{job="{JOB}"}} == 1')

        _, body = http_get(f"http://127.0.0.1:{prom_port}/api/v1/rules")
        alerts = {rule["name"] for group in json.loads(body)["data"]["groups"] for rule in group["rules"]
                  if rule["type"] == "alerting"}
        assert {"AdsentConsumerLagGrowing", "AdsentDeadLetterRate", "AdsentWorkerNotReady"} <= alerts
    finally:
        stop(prometheus)
        stop(worker)
