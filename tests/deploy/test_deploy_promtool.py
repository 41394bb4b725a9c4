"""promtool on the alert rules, the scrape config and the rules' unit tests (Debian's prometheus)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing: install Debian's prometheus (make system-deps)")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120)


def test_rules_are_valid() -> None:
    done = promtool("check", "rules", "rules/adsent.rules.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_scrape_config_is_valid() -> None:
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout, "the rules glob must match the rules file"


def test_alerts_fire_on_bad_series_and_stay_quiet_on_good_ones() -> None:
    done = promtool("test", "rules", "tests/adsent.rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
