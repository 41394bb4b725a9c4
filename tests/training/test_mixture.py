"""Several data sets at once: weighted sampling, part-tagged ids, per-part test sets, the mixture file."""

from __future__ import annotations

import json
import random

import pytest

from training.data.examples import JmasaExample
from training.mixture import Mixture, MixturePart, load_mixture, part_of, sample
from training.runs import DataSpec
from training.trainer import weighted_f1


def write_unified(folder, sentences: int) -> None:
    folder.mkdir(parents=True)
    line = "The staff was lovely.####The=O staff=T-POS was=O lovely=O .=O"
    for split in ("train", "dev", "test"):
        (folder / f"{split}.txt").write_text("\n".join([line] * sentences) + "\n")


def test_sample_takes_whole_copies_and_a_random_share():
    examples = [JmasaExample(str(i), "x", ()) for i in range(10)]
    drawn = sample(examples, 1.5, random.Random(0))
    assert len(drawn) == 15 and len({e.example_id for e in drawn}) == 10
    assert len(sample(examples, 0.3, random.Random(0))) == 3


def test_mixture_file_loads_parts_with_weights_and_tags_ids(tmp_path):
    write_unified(tmp_path / "a", 4)
    write_unified(tmp_path / "b", 6)
    path = tmp_path / "mix.json"
    path.write_text(json.dumps({"seed": 1, "parts": [
        {"name": "a", "dataset": "unified", "data_dir": "a", "weight": 2},
        {"name": "b", "dataset": "unified", "data_dir": "b", "weight": 0.5}]}))
    mixture = load_mixture(path, tmp_path / "state")
    train = mixture.load("train")
    assert [part_of(e) for e in train].count("a") == 8 and [part_of(e) for e in train].count("b") == 3
    assert len(mixture.load("dev")) == 10  # dev and test are never sampled
    assert [name for name, _ in mixture.test_sets()] == ["test_a_test", "test_b_test"]
    assert mixture.weights == {"a": 2.0, "b": 0.5}


def test_mixture_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="distinct names"):
        Mixture((MixturePart("a", DataSpec("unified", tmp_path)), MixturePart("a", DataSpec("unified", tmp_path))))
    with pytest.raises(ValueError, match="unknown data set"):
        DataSpec("tweets")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"parts": [{"name": "a", "data": "x"}]}))
    with pytest.raises(ValueError, match="needs 'dataset'"):
        load_mixture(path, tmp_path)


def test_weighted_dev_f1():
    assert weighted_f1({"ads": 0.6, "rest14": 0.3}, {"ads": 2.0, "rest14": 1.0, "absent": 5.0}) == pytest.approx(0.5)


def test_parts_resolve_against_a_data_root_and_missing_folders_are_named(tmp_path):
    write_unified(tmp_path / "data" / "e2e-absa" / "rest14", 3)
    path = tmp_path / "recipes" / "mix.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"parts": [{"name": "rest14", "dataset": "unified", "data_dir": "e2e-absa/rest14"}]}))
    with pytest.raises(ValueError, match="no folder .*e2e-absa/rest14.*--data-dir"):
        load_mixture(path, tmp_path / "state")
    mixture = load_mixture(path, tmp_path / "state", data_root=tmp_path / "data")
    assert len(mixture.load("train")) == 3


def test_the_shipped_mixture_reads_the_public_sets(tmp_path):
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "training" / "recipes" / "mixture.json"
    root = Path(__file__).resolve().parents[3] / "shared" / "data"
    if not (root / "e2e-absa").is_dir():
        pytest.skip(f"the public review and tweet sets are not at {root} (research data, not shipped)")
    mixture = load_mixture(shipped, tmp_path / "state", with_images=False, data_root=root)
    assert {p.name for p in mixture.parts} == {"ads", "rest14", "rest15", "laptop14", "twitter2015"}
    assert {name for name, _ in mixture.test_sets()} >= {"test_ads_test", "test_ads_test_category", "test_rest14_test"}


def test_calibration_fits_on_the_named_part_only(tmp_path):
    from training.batches import Prepared
    from training.runs import calibration_split

    write_unified(tmp_path / "a", 2)
    write_unified(tmp_path / "b", 3)
    path = tmp_path / "mix.json"
    parts = [{"name": "a", "dataset": "unified", "data_dir": "a"}, {"name": "b", "dataset": "unified", "data_dir": "b"}]
    path.write_text(json.dumps({"calibrate_on": "b", "parts": parts}))
    mixture = load_mixture(path, tmp_path / "state")
    dev = [Prepared(e) for e in mixture.load("dev")]
    assert {part_of(p.example) for p in calibration_split(mixture, dev)} == {"b"}
    assert len(calibration_split(DataSpec("unified", tmp_path / "a"), dev)) == 5  # no mixture: all of dev
    path.write_text(json.dumps({"calibrate_on": "c", "parts": parts}))
    with pytest.raises(ValueError, match="calibrate_on names no part"):
        load_mixture(path, tmp_path / "state")
