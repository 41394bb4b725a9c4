"""promtool on the alert rules, the scrape config, the rules' unit tests and the dashboard's Business queries."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
DASHBOARD = PROMETHEUS_DIR.parent / "grafana" / "dashboards" / "adsent.json"
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


def business_queries() -> list[str]:
    """The queries of the dashboard's Business row, as Grafana sends them with two platforms selected."""
    dashboard = json.loads(DASHBOARD.read_text())
    panels = sorted(dashboard["panels"], key=lambda p: p["gridPos"]["y"])
    (start,) = [i for i, p in enumerate(panels) if p["type"] == "row" and p["title"] == "Business"]
    queries = []
    for panel in panels[start + 1:]:
        if panel["type"] == "row":
            break
        queries += [t["expr"].replace("$__rate_interval", "5m").replace("$platform", "(facebook|other)")
                    for t in panel["targets"]]
    return queries


def test_business_shares_add_up_to_one_per_platform(tmp_path: Path) -> None:
    """Each Business panel's shares are valid PromQL, sum to 1 per platform and leave unselected platforms out."""
    queries = business_queries()
    assert len(queries) >= 2 and "adsent_overall_sentiments_emitted_total" in queries[0]
    series = {  # per minute: facebook 3 positive ads and 1 negative, tiktok (not selected) and other 1 neutral each
        'adsent_overall_sentiments_emitted_total{platform="facebook",sentiment="positive"}': "0+3x20",
        'adsent_overall_sentiments_emitted_total{platform="facebook",sentiment="negative"}': "0+1x20",
        'adsent_overall_sentiments_emitted_total{platform="tiktok",sentiment="neutral"}': "0+1x20",
        'adsent_overall_sentiments_emitted_total{platform="other",sentiment="neutral"}': "0+1x20",
        'adsent_sentiments_emitted_total{platform="facebook",sentiment="positive",dimension="color"}': "0+2x20",
        'adsent_sentiments_emitted_total{platform="facebook",sentiment="negative",dimension="text"}': "0+6x20",
        'adsent_sentiments_emitted_total{platform="tiktok",sentiment="neutral",dimension="face"}': "0+1x20",
        'adsent_sentiments_emitted_total{platform="other",sentiment="neutral",dimension="scene"}': "0+1x20",
    }
    each_platform = [{"labels": f'{{platform="{p}"}}', "value": 1} for p in ("facebook", "other")]
    tests = [{"expr": f"sum by (platform) ({q})", "eval_time": "15m", "exp_samples": each_platform} for q in queries]
    tests.append({"expr": queries[0], "eval_time": "15m", "exp_samples": [
        {"labels": '{platform="facebook",sentiment="negative"}', "value": 0.25},
        {"labels": '{platform="facebook",sentiment="positive"}', "value": 0.75},
        {"labels": '{platform="other",sentiment="neutral"}', "value": 1}]})
    spec = {"rule_files": [], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [{"series": k, "values": v} for k, v in series.items()],
        "promql_expr_test": tests}]}
    (tmp_path / "business.test.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([PROMTOOL, "test", "rules", "business.test.yml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
