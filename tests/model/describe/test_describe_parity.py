"""Train/serve parity of the describe configuration: the checkpoint's record wins, conflicts refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.describe.config import DescribeConfig
from model.describe.parity import (
    DESCRIBE_RECORD,
    DescribeMismatchError,
    describe_record,
    load_describe_record,
    save_describe_record,
    serving_describe_config,
)
from schemas.settings import Settings


def checkpoint_trained_with(tmp_path: Path, **fields: object) -> Path:
    directory = tmp_path / "ckpt"
    directory.mkdir()
    save_describe_record(directory, DescribeConfig(**fields))
    return directory


def test_the_record_keeps_content_fields_and_leaves_runtime_ones_out(tmp_path: Path) -> None:
    directory = checkpoint_trained_with(tmp_path, ocr_engine="tesseract", text_det_side=512, device="cuda")
    record = load_describe_record(directory)
    assert record == describe_record(DescribeConfig(ocr_engine="tesseract", text_det_side=512))
    assert record["ocr_engine"] == "tesseract" and "device" not in record and "ocr_threads" not in record
    assert load_describe_record(tmp_path) is None and load_describe_record(None) is None


def test_serving_uses_the_trained_configuration_where_the_environment_is_silent(tmp_path: Path) -> None:
    directory = checkpoint_trained_with(tmp_path, ocr_engine="tesseract", text_det_side=512, max_faces=2)
    config, overridden = serving_describe_config(Settings(state_dir=tmp_path, device="cpu", max_image_bytes=1234),
                                                 directory)
    assert (config.ocr_engine, config.text_det_side, config.max_faces) == ("tesseract", 512, 2)
    assert (config.device, config.max_image_bytes) == ("cpu", 1234)  # runtime fields from the settings
    assert overridden == {}


def test_a_conflicting_environment_refuses_unless_overridden(tmp_path: Path) -> None:
    directory = checkpoint_trained_with(tmp_path, ocr_engine="rapidocr")
    settings = Settings(state_dir=tmp_path, ocr_engine="tesseract")
    with pytest.raises(DescribeMismatchError, match="ADSENT_OCR_ENGINE is 'tesseract', the model was trained "
                                                    "with 'rapidocr'.*ADSENT_DESCRIBE_OVERRIDE"):
        serving_describe_config(settings, directory)
    config, overridden = serving_describe_config(settings.model_copy(update={"describe_override": True}), directory)
    assert config.ocr_engine == "tesseract" and overridden == {"ocr_engine": ("rapidocr", "tesseract")}
    # the same value set explicitly is no conflict
    assert serving_describe_config(Settings(state_dir=tmp_path, ocr_engine="rapidocr"), directory)[1] == {}


def test_without_a_record_the_settings_decide(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, ocr_engine="tesseract")
    assert serving_describe_config(settings, tmp_path)[0] == DescribeConfig.from_settings(settings)
    assert serving_describe_config(settings, None)[0].ocr_engine == "tesseract"


def test_a_model_carries_its_record_through_save_and_load(tmp_path: Path) -> None:
    import torch

    from model.config import ModelConfig
    from model.predict import AdSentimentModel

    torch.manual_seed(0)
    model = AdSentimentModel.from_config(ModelConfig.tiny(), device="cpu")
    model.describe_record = describe_record(DescribeConfig(ocr_engine="tesseract", max_faces=1))
    model.save_pretrained(tmp_path / "ckpt")
    assert json.loads((tmp_path / "ckpt" / DESCRIBE_RECORD).read_text())["max_faces"] == 1
    loaded = AdSentimentModel.from_pretrained(tmp_path / "ckpt", device="cpu")
    assert loaded.describe_record == model.describe_record
    assert (loaded.describer.config.ocr_engine, loaded.describer.config.max_faces) == ("tesseract", 1)


@pytest.mark.parametrize("attribute", ["face_expression", "face_age", "face_gender"])
def test_switching_a_face_attribute_off_needs_no_override_but_warns(
        tmp_path: Path, attribute: str, caplog: pytest.LogCaptureFixture) -> None:
    directory = checkpoint_trained_with(tmp_path)  # every attribute on
    with caplog.at_level("WARNING", logger="model.describe.parity"):
        config, overridden = serving_describe_config(Settings(state_dir=tmp_path, **{attribute: False}), directory)
    assert getattr(config, attribute) is False and overridden == {}
    assert attribute in caplog.text and "trained" in caplog.text


def test_switching_on_a_face_attribute_the_model_was_trained_without_refuses(tmp_path: Path) -> None:
    directory = checkpoint_trained_with(tmp_path, face_gender=False)
    assert serving_describe_config(Settings(state_dir=tmp_path), directory)[0].face_gender is False  # silent: record
    settings = Settings(state_dir=tmp_path, face_gender=True)
    with pytest.raises(DescribeMismatchError, match="ADSENT_FACE_GENDER is True, the model was trained with False"):
        serving_describe_config(settings, directory)
    config, overridden = serving_describe_config(settings.model_copy(update={"describe_override": True}), directory)
    assert config.face_gender is True and overridden == {"face_gender": (False, True)}


def test_a_record_from_before_separate_face_attributes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    record = {k: v for k, v in describe_record(DescribeConfig()).items() if not k.startswith("face_")}
    (tmp_path / DESCRIBE_RECORD).write_text(json.dumps({**record, "age_gender": False}))
    config, _ = serving_describe_config(Settings(state_dir=tmp_path), tmp_path)
    assert (config.face_expression, config.face_age, config.face_gender) == (True, False, False)
    (tmp_path / DESCRIBE_RECORD).write_text(json.dumps({**record, "age_gender": True}))
    with caplog.at_level("WARNING", logger="model.describe.parity"):
        config, _ = serving_describe_config(Settings(state_dir=tmp_path, face_age=False), tmp_path)
    assert config.face_age is False and "face_age" in caplog.text


def test_intake_and_privacy_settings_reach_the_describe_config(tmp_path: Path) -> None:
    defaults = DescribeConfig.from_settings(Settings(state_dir=tmp_path, device="cpu"))
    for name in ("formats", "max_image_decoded_bytes", "face_expression", "face_age", "face_gender"):
        assert getattr(defaults, name) == getattr(DescribeConfig(), name), name  # one default, two places
    assert "TIFF" not in defaults.formats
    chosen = DescribeConfig.from_settings(Settings(state_dir=tmp_path, device="cpu", image_formats=("PNG", "TIFF"),
                                                   max_image_decoded_bytes=1234, face_age=False))
    assert (chosen.formats, chosen.max_image_decoded_bytes, chosen.face_age) == (("PNG", "TIFF"), 1234, False)
    assert "max_image_decoded_bytes" not in describe_record(chosen) and "formats" not in describe_record(chosen)
