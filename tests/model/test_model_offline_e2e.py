"""The offline pretrained default end to end on a real photo (slow: real weights, real OCR)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def astronaut_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("img") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    return path


def test_predict_on_a_real_photo(astronaut_jpeg: Path, tmp_path: Path) -> None:
    from model.config import ModelConfig
    from model.predict import AdSentimentModel
    from schemas.events import AdUploaded, ImageRef

    model = AdSentimentModel.from_config(ModelConfig.offline_default(), device="cpu")
    copy = "Reach for the stars: our new suit is comfortable and bright"
    ad = AdUploaded(ad_id="astro-1", image=ImageRef(data=astronaut_jpeg.read_bytes()), text=copy)
    (result,) = model.predict([ad])
    assert result.ad_id == "astro-1" and result.texts.caption
    assert result.texts.faces  # MTCNN finds the astronaut's face
    assert {"describe", "features", "classify"} <= set(result.stage_seconds)
    assert len(result.concepts) == 10
    for attribute in result.attributes:
        if attribute.segment == "ad_copy":
            assert copy[attribute.start:attribute.end] == attribute.term
    model.save_pretrained(tmp_path / "ckpt")
    again = AdSentimentModel.from_pretrained(tmp_path / "ckpt", device="cpu")
    from model.describe import load_image

    loaded = load_image(astronaut_jpeg)
    events = model.features([ad], [loaded.image], model.describer.describe([loaded]), [{}])
    assert [a.model_dump() for a in model.classify(events)[0].attributes] == \
        [a.model_dump() for a in again.classify(events)[0].attributes]


def test_cli_prints_one_json_object_per_image(astronaut_jpeg: Path, tmp_path: Path) -> None:
    """stdout of --json is JSON lines only (third-party notices and logs go to stderr)."""
    from typer.testing import CliRunner

    from streams.cli import build_app

    result = CliRunner().invoke(build_app(), ["predict", str(astronaut_jpeg), str(astronaut_jpeg), "--untrained",
                                              "--text", "Fresh look, great price", "--json"],
                                env={"ADSENT_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in result.stdout.splitlines()]  # every line parses
    assert len(documents) == 2
    assert documents[0]["ad_id"].startswith("astronaut-")
    assert documents[0]["model_version"].startswith("untrained-")


def test_cli_refuses_without_a_trained_model(astronaut_jpeg: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from streams.cli import build_app

    result = CliRunner().invoke(build_app(), ["predict", str(astronaut_jpeg), "--json"],
                                env={"ADSENT_STATE_DIR": str(tmp_path), "ADSENT_CHECKPOINT_DIR": None})
    assert result.exit_code == 1 and result.stdout == ""
    assert "no trained model" in result.stderr and "adsent train --starter" in result.stderr
