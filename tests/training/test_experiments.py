"""Experiment bookkeeping: variant configurations and the reuse of finished runs."""

from __future__ import annotations

import json
from dataclasses import replace

from model.config import ModelConfig
from training.config import TrainConfig
from training.experiments import TODAYS_RECIPE, Variant, finished_run, run_name


def write_run(folder, model: ModelConfig, train: TrainConfig, finished: bool = True) -> None:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model": model.to_dict(), "train": train.to_dict()}))
    summary = {"total_seconds": 1.0} if finished else {}
    (folder / "metrics.json").write_text(json.dumps({"summary": summary, "test": {}}))


def test_a_finished_run_of_the_same_configuration_is_reused_also_from_a_sibling(tmp_path):
    model, train = ModelConfig.tiny(), TrainConfig()
    write_run(tmp_path / "recipe" / "other-variant", model, train)
    mine = tmp_path / "recipe" / "mine"
    assert finished_run(mine, model, train)["summary"]["total_seconds"] == 1.0
    assert mine.is_symlink() and (mine / "config.json").is_file()  # the sibling's run under this variant's name
    other = tmp_path / "recipe" / "other-seed"
    assert finished_run(other, model, replace(train, seed=14)) is None
    assert finished_run(other, replace(model, text=replace(model.text, max_length=32)), train) is None
    assert not other.exists()


def test_an_unfinished_run_is_not_reused(tmp_path):
    model, train = ModelConfig.tiny(), TrainConfig()
    write_run(tmp_path / "recipe" / "mine", model, train, finished=False)
    assert finished_run(tmp_path / "recipe" / "mine", model, train) is None


def test_variants_apply_model_and_training_changes():
    variant = Variant("softmax", train=TODAYS_RECIPE, model={"fusion": {"tagger": "softmax"}}, loss={"token": 1.0})
    model, train = variant.configs(ModelConfig.tiny(), TrainConfig(epochs=9))
    assert model.fusion.tagger == "softmax" and model.fusion.prefix_length == ModelConfig.tiny().fusion.prefix_length
    assert train.epochs == TODAYS_RECIPE["epochs"] and train.loss.token == 1.0
    assert run_name(variant, 13, 13) == "softmax" and run_name(variant, 14, 13) == "softmax-seed-14"
