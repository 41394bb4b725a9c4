"""``adsent train`` / ``evaluate`` / ``experiments --quick`` end to end on a tiny JSONL data set."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from training.metrics import REPORT_KEYS, resolve

COPIES = [
    ("The leather seats feel great.", "leather seats", "positive"),
    ("The price is far too high.", "price", "negative"),
    ("Battery life reaches two days.", "Battery life", "positive"),
    ("Delivery takes three days.", "Delivery", "neutral"),
    ("The screen cracks easily.", "screen", "negative"),
    ("Our coffee tastes wonderful.", "coffee", "positive"),
]


def write_split(path, rows) -> None:
    lines = []
    for i, (text, term, sentiment) in enumerate(rows):
        start = text.index(term)
        lines.append(json.dumps({"ad_id": f"{path.stem}-{i}", "text": text, "overall": sentiment,
                                 "aspects": [{"start": start, "end": start + len(term), "term": term,
                                              "sentiment": sentiment}]}))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def data(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for split in ("train", "dev", "test"):
        write_split(root / f"{split}.jsonl", COPIES)
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"preset": "tiny", "train": {"batch_size": 4, "eval_batch_size": 8}}))
    return root, config


def invoke(args, tmp_path):
    from streams.cli import build_app

    env = {"ADSENT_STATE_DIR": str(tmp_path / "state")}
    return CliRunner().invoke(build_app(), args, env=env)


@pytest.mark.slow
def test_train_then_evaluate_writes_every_report_key(data, tmp_path):
    root, config = data
    run = tmp_path / "run"
    result = invoke(["train", "--dataset", "jsonl", "--data-dir", str(root), "--out", str(run), "--epochs", "2",
                     "--config", str(config), "--eta", "1.0", "--epsilon", "0.3"], tmp_path)
    assert result.exit_code == 0, result.output
    assert (run / "best" / "model.safetensors").is_file()
    assert (run / "last" / "trainer_state.pt").is_file()
    assert (run / "train.log").is_file()
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["history"]) == 2 and "test" in metrics
    saved = json.loads((run / "config.json").read_text())
    assert saved["train"]["epochs"] == 2 and saved["model"]["text"]["pretrained"] is False

    report = tmp_path / "eval.json"
    result = invoke(["evaluate", "--checkpoint", str(run / "best"), "--dataset", "jsonl", "--data-dir", str(root),
                     "--split", "dev", "--json", str(report)], tmp_path)
    assert result.exit_code == 0, result.output
    assert "JMASA" in result.output
    document = json.loads(report.read_text())
    for key in REPORT_KEYS:
        resolve(document, key)
    assert document["overall"]["accuracy"] is not None
    assert document["examples"] == len(COPIES)
    # training fitted the confidence temperatures on dev; calibrate fits them again on demand
    fitted = json.loads((run / "best" / "calibration.json").read_text())
    assert fitted["attribute"] > 0 and fitted["fitted"]["examples"] == len(COPIES)
    assert document["calibration"]["overall_ece"] is not None
    (run / "best" / "calibration.json").unlink()
    result = invoke(["calibrate", "--checkpoint", str(run / "best"), "--dataset", "jsonl", "--data-dir", str(root)],
                    tmp_path)
    assert result.exit_code == 0, result.output
    assert "attribute temperature" in result.output and (run / "best" / "calibration.json").is_file()


def test_train_reports_a_missing_data_dir(tmp_path):
    result = invoke(["train", "--dataset", "jsonl", "--out", str(tmp_path / "run")], tmp_path)
    assert result.exit_code != 0
    assert "--data-dir" in result.output


@pytest.mark.slow
def test_quick_depth_sweep_writes_a_table_and_a_plot(data, tmp_path):
    root, config = data
    out = tmp_path / "experiments"
    result = invoke(["experiments", "depth", "--quick", "--dataset", "jsonl", "--data-dir", str(root),
                     "--out", str(out), "--config", str(config)], tmp_path)
    assert result.exit_code == 0, result.output
    table = (out / "depth.md").read_text()
    assert "1 encoder layers" in table and "2 encoder layers" in table
    assert (out / "depth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_quick_recipe_study_runs_seeds_rescores_and_resumes(data, tmp_path):
    root, config = data
    out = tmp_path / "recipe"
    args = ["experiments", "recipe", "--quick", "--dataset", "jsonl", "--data-dir", str(root), "--text-only",
            "--out", str(out), "--config", str(config), "--seeds", "13,14",
            "--variants", "today-s-recipe,span-sentiment-by-marginal-vote-decoding-only,softmax-head-instead-of-the-crf"]
    result = invoke(args, tmp_path)
    assert result.exit_code == 0, result.output
    runs = out / "recipe"
    assert {p.name for p in runs.iterdir()} == {
        "today-s-recipe", "today-s-recipe-seed-14", "softmax-head-instead-of-the-crf",
        "softmax-head-instead-of-the-crf-seed-14", "span-sentiment-by-marginal-vote-decoding-only",
        "span-sentiment-by-marginal-vote-decoding-only-seed-14"}
    # the decoding-only variant re-scored the baseline's checkpoint: no checkpoint of its own
    assert not (runs / "span-sentiment-by-marginal-vote-decoding-only" / "best").exists()
    assert json.loads((runs / "softmax-head-instead-of-the-crf" / "config.json").read_text()
                      )["model"]["fusion"]["tagger"] == "softmax"
    table = (out / "recipe.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| today's recipe"))
    assert "| 13, 14 |" in row and "±" in row
    # a second run reuses every finished run
    stamp = (runs / "today-s-recipe" / "metrics.json").stat().st_mtime_ns
    result = invoke(args, tmp_path)
    assert result.exit_code == 0, result.output
    assert (runs / "today-s-recipe" / "metrics.json").stat().st_mtime_ns == stamp


def test_unknown_recipe_variants_are_refused(data, tmp_path):
    root, config = data
    result = invoke(["experiments", "recipe", "--dataset", "jsonl", "--data-dir", str(root), "--out",
                     str(tmp_path / "x"), "--config", str(config), "--variants", "warp-drive"], tmp_path)
    assert result.exit_code != 0 and "warp-drive" in result.output


@pytest.mark.slow
def test_train_and_evaluate_on_unified_tag_files(tmp_path):
    root = tmp_path / "reviews"
    root.mkdir()
    lines = ["The staff was so horrible to us.####The=O staff=T-NEG was=O so=O horrible=O to=O us=O .=O",
             "The battery life couldn't be better.####The=O battery=T-POS life=T-POS could=O n't=O be=O better=O .=O",
             "Prices are listed at the door.####Prices=T-NEU are=O listed=O at=O the=O door=O .=O"]
    for split in ("train", "dev", "test"):
        (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"preset": "tiny", "train": {"batch_size": 2, "eval_batch_size": 4}}))
    run = tmp_path / "run"
    result = invoke(["train", "--dataset", "unified", "--data-dir", str(root), "--text-only", "--out", str(run),
                     "--epochs", "1", "--config", str(config)], tmp_path)
    assert result.exit_code == 0, result.output
    out = tmp_path / "test.json"
    result = invoke(["evaluate", "--checkpoint", str(run / "best"), "--dataset", "unified", "--data-dir", str(root),
                     "--split", "test", "--text-only", "--json", str(out)], tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["jmasa"]["gold"] == 3


@pytest.mark.slow
def test_train_on_a_mixture_reports_every_part(data, tmp_path):
    root, config = data
    reviews = tmp_path / "reviews"
    reviews.mkdir()
    for split in ("train", "dev", "test"):
        (reviews / f"{split}.txt").write_text("The staff was lovely.####The=O staff=T-POS was=O lovely=O .=O\n")
    mixture = tmp_path / "mix.json"
    mixture.write_text(json.dumps({"parts": [{"name": "ads", "dataset": "jsonl", "data_dir": str(root)},
                                             {"name": "reviews", "dataset": "unified", "data_dir": str(reviews),
                                              "weight": 2}]}))
    run = tmp_path / "run"
    result = invoke(["train", "--mixture", str(mixture), "--out", str(run), "--epochs", "1", "--config", str(config)],
                    tmp_path)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"test_ads_test", "test_reviews_test"} <= set(metrics)
    assert set(metrics["history"][0]["dev"]["per_part"]) == {"ads", "reviews"}
    assert "test_reviews_test" in result.output


@pytest.mark.slow
def test_grid_scores_every_model_on_every_test_set_and_reuses_cells(data, tmp_path):
    root, config = data
    reviews = tmp_path / "public" / "reviews"
    reviews.mkdir(parents=True)
    (reviews / "test.txt").write_text("The staff was lovely.####The=O staff=T-POS was=O lovely=O .=O\n")
    (tmp_path / "public" / "ads").symlink_to(root)
    run = tmp_path / "run"
    result = invoke(["train", "--dataset", "jsonl", "--data-dir", str(root), "--out", str(run), "--epochs", "1",
                     "--config", str(config), "--text-only"], tmp_path)
    assert result.exit_code == 0, result.output
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({
        "models": [{"name": "tiny ads", "checkpoint": str(run / "best"), "text_only": True},
                   {"name": "not trained", "checkpoint": str(tmp_path / "nowhere")}],
        "tests": [{"name": "ads", "dataset": "jsonl", "data_dir": "ads"},
                  {"name": "reviews", "dataset": "unified", "data_dir": "reviews"}]}))
    out = tmp_path / "grid"
    args = ["grid", str(grid), "--data-dir", str(tmp_path / "public"), "--out", str(out)]
    result = invoke(args, tmp_path)
    assert result.exit_code == 0, result.output
    table = (out / "grid.md").read_text()
    assert "| trained on \\ tested on | ads | reviews |" in table
    assert "| not trained | - | - |" in table
    row = next(line for line in table.splitlines() if line.startswith("| tiny ads"))
    assert row.count("|") == 4 and "- " not in row  # both cells scored
    cells = sorted((out / "cells").iterdir())
    assert [c.name for c in cells] == ["tiny-ads__ads.json", "tiny-ads__reviews.json"]
    stamp = cells[0].stat().st_mtime_ns
    assert invoke(args, tmp_path).exit_code == 0
    assert cells[0].stat().st_mtime_ns == stamp  # reused


def test_grid_names_a_missing_test_folder(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"models": [{"name": "m", "checkpoint": "x"}],
                                "tests": [{"name": "r", "dataset": "unified", "data_dir": "rest14"}]}))
    result = invoke(["grid", str(grid), "--out", str(tmp_path / "o")], tmp_path)
    assert result.exit_code != 0 and "rest14" in result.output and "--data-dir" in result.output
