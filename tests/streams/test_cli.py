"""The adsent command: root help, settings, schemas and broker subcommands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from streams.cli import build_app
from tests.conftest import free_port

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(build_app(), list(args), env=env)


def test_help_lists_the_groups() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for group in ("broker", "schemas", "demo", "settings"):
        assert group in result.output


def test_settings_prints_every_variable() -> None:
    result = invoke("settings", env={"ADSENT_BROKER_PORT": "12345"})
    assert result.exit_code == 0
    assert "ADSENT_BROKER_PORT=12345" in result.output
    assert "ADSENT_KAFKA_SASL_PASSWORD" in result.output


def test_invalid_environment_is_a_clear_error() -> None:
    result = invoke("settings", env={"ADSENT_BROKER_PORT": "not-a-port"})
    assert result.exit_code == 2
    assert "invalid ADSENT_* settings" in result.output


def test_schemas_check_passes_on_committed_files() -> None:
    result = invoke("schemas", "check")
    assert result.exit_code == 0, result.output


def test_schemas_export_then_check(tmp_path) -> None:
    assert invoke("schemas", "export", str(tmp_path)).exit_code == 0
    assert invoke("schemas", "check", str(tmp_path)).exit_code == 0
    (tmp_path / "DeadLetter.schema.json").write_text("{}")
    result = invoke("schemas", "check", str(tmp_path))
    assert result.exit_code == 1 and "DeadLetter.schema.json" in result.output


def test_broker_commands_refuse_with_an_external_cluster() -> None:
    result = invoke("broker", "up", env={"ADSENT_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"})
    assert result.exit_code == 2 and "not used" in result.output


@pytest.mark.integration
def test_broker_up_status_down(tmp_path) -> None:
    env = {"ADSENT_STATE_DIR": str(tmp_path), "ADSENT_BROKER_PORT": str(free_port())}
    try:
        up = invoke("broker", "up", env=env)
        assert up.exit_code == 0, up.output
        assert "topic ads.uploaded: created (4 partitions)" in up.output
        assert invoke("broker", "status", env=env).exit_code == 0
        refused = invoke("broker", "reset", "--yes", env=env)
        assert refused.exit_code == 1 and "stop it first" in refused.output
    finally:
        assert "broker stopped" in invoke("broker", "down", env=env).output
    assert invoke("broker", "status", env=env).exit_code == 1
    assert "deleted" in invoke("broker", "reset", "--yes", env=env).output
    assert not (tmp_path / "broker").exists()
    assert "no data" in invoke("broker", "reset", "--yes", env=env).output


@pytest.mark.integration
@pytest.mark.slow
def test_demo_end_to_end(tmp_path) -> None:
    env = {"ADSENT_STATE_DIR": str(tmp_path), "ADSENT_BROKER_PORT": str(free_port()),
           "ADSENT_METRICS_PORT": str(free_port()), "ADSENT_ALLOW_UNTRAINED_MODEL": "true"}
    result = invoke("demo", "--photos", "3", env=env)
    assert result.exit_code == 0, result.output
    assert "ads in 5, results 3, dead-lettered 2, missing 0" in result.output
    assert "end-to-end latency p50" in result.output and "embedded broker stopped" in result.output
    assert "DEAD LETTER [describe/missing_field]" in result.output
    assert "DEAD LETTER [describe/image_corrupt]" in result.output
    report = tmp_path / "demo-report.html"
    assert f"report: {report}" in result.output
    html = report.read_text()
    assert html.count('<details class="ad"') == 5  # two dead letters, each in the index and the list:
    assert html.count('data-outcome="dead-letter"><td>') == 4 and "describe / <code>missing_field</code>" in html
    assert html.count("<img ") == 3 and '<div class="box face"' in html  # the photos, the astronaut's face


def test_every_registered_command_loads() -> None:
    from importlib.metadata import entry_points

    from streams.cli import ENTRY_POINT_GROUP

    names = {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"broker", "schemas", "demo", "describe", "predict", "explain", "train", "evaluate", "experiments",
            "worker", "publish", "tail", "deadletters", "bench"} <= names
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        assert entry.load() is not None, entry.name
    help_text = invoke("--help").output
    assert all(name in help_text for name in names)
