"""ANP teachers: the pre-computed distribution file and the weak offline teacher."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from model.anp import load_anp_vocabulary
from schemas.description import Description, ImageInfo, OcrResult
from training.teacher import DistributionFileTeacher, TeacherError, WeakAnpTeacher


def description(caption: str, ocr: str = "") -> Description:
    return Description(image=ImageInfo(width=8, height=8, format="PNG", sha256="0" * 64), caption=caption,
                       ocr=OcrResult(engine="test", text=ocr), visual_context=caption)


def test_distribution_file_teacher_normalises_and_reports_missing_images(tmp_path):
    size = len(load_anp_vocabulary())
    scores = np.zeros(size, np.float32)
    scores[[3, 7]] = [1.0, 3.0]
    table = tmp_path / "dsb.npz"
    np.savez(table, **{"ad.png": scores})
    image = tmp_path / "ad.png"
    Image.new("RGB", (4, 4)).save(image)
    teacher = DistributionFileTeacher(table)
    row = teacher.distributions([image], [description("x")])[0]
    assert row[3] == pytest.approx(0.25) and row[7] == pytest.approx(0.75) and row.sum() == pytest.approx(1.0)
    other = tmp_path / "other.png"
    Image.new("RGB", (4, 4), "red").save(other)
    with pytest.raises(TeacherError):
        teacher.distributions([other], [description("x")])
    np.savez(tmp_path / "bad.npz", **{"ad.png": np.ones(5, np.float32)})
    with pytest.raises(TeacherError):
        DistributionFileTeacher(tmp_path / "bad.npz")


@pytest.mark.slow
def test_weak_teacher_prefers_anps_close_to_the_generated_texts(tmp_path):
    bright = tmp_path / "bright.png"
    Image.new("RGB", (16, 16), (255, 220, 40)).save(bright)
    teacher = WeakAnpTeacher()
    rows = teacher.distributions([bright, None], [description("a fast red sports car on a road"),
                                                  description("a smiling baby with a toy")])
    assert rows.shape == (2, len(teacher.vocabulary)) and np.allclose(rows.sum(1), 1.0, atol=1e-4)
    top_car = {teacher.vocabulary[i].noun for i in np.argsort(-rows[0])[:10]}
    top_baby = {teacher.vocabulary[i].noun for i in np.argsort(-rows[1])[:10]}
    assert top_car & {"car", "cars", "road", "vehicle", "truck", "racing", "sportscar"}
    assert top_baby & {"baby", "babies", "child", "kid", "kids", "toy", "toys", "smile"}
    assert teacher.colour_mood(bright) > 0
