"""The ads-mini renderer: deterministic PNGs with a real font, product shapes and people photos."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from training.data.ads_mini import ADS_MINI_DIR
from training.data.jsonl import read_records
from training.data.render_ads import PEOPLE_CATEGORIES, RenderConfig, digest, find_font, main, render_all, slogan_of

CONFIG = RenderConfig()


def _sample(count_per_category: int = 1):
    records: list = []
    seen: dict[str, int] = {}
    for record in read_records(ADS_MINI_DIR / "dev.jsonl"):
        if seen.get(record.category, 0) < count_per_category:
            seen[record.category] = seen.get(record.category, 0) + 1
            records.append(record)
    return records


def _hashes(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]


def test_same_input_gives_byte_identical_png(tmp_path: Path):
    records = _sample()
    first = render_all(records, tmp_path / "a", CONFIG)
    second = render_all(records, tmp_path / "b", CONFIG)
    assert _hashes(first) == _hashes(second)
    assert len(set(_hashes(first))) == len(records)  # different ads, different images
    assert first[0].relative_to(tmp_path / "a") == Path(records[0].image)
    with Image.open(first[0]) as image:
        assert image.size == (CONFIG.width, CONFIG.height) and image.mode == "RGB"


def test_some_ads_carry_a_person_and_dejavu_is_used():
    assert "DejaVu" in find_font().name
    people = [r for r in read_records(ADS_MINI_DIR / "train.jsonl") if r.category in PEOPLE_CATEGORIES]
    with_person = [r for r in people if digest(r.ad_id)[4] / 256 < CONFIG.person_share]
    assert 0 < len(with_person) < len(people)


def test_slogan_is_the_first_sentence():
    assert slogan_of("Buffering again? Switch today.", CONFIG) == "Buffering again?"
    assert slogan_of("Skin, but better. Shop now.", CONFIG) == "Skin, but better"
    assert len(slogan_of("word " * 40, CONFIG)) <= CONFIG.slogan_max_chars


def test_cli_renders_a_split(tmp_path: Path):
    main(["--out", str(tmp_path), "--splits", "dev"])
    assert len(list((tmp_path / "images").glob("*.png"))) == len(read_records(ADS_MINI_DIR / "dev.jsonl"))
