"""``adsent explain``: from a results file, and in process from image files."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.streams.report.dom import parse
from tests.streams.report.factories import dead_letter, photo, result, upload
from typer.testing import CliRunner

from schemas import encode
from streams.cli import build_app

runner = CliRunner()


def explain(*args: str):  # noqa: ANN201
    return runner.invoke(build_app(), ["explain", *args])


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    results = tmp_path / "results.jsonl"
    results.write_bytes(b"".join(encode(e) + b"\n" for e in (result("ad-a"), result("ad-b", "negative"),
                                                              dead_letter("ad-c"))))
    uploads = tmp_path / "uploads.jsonl"
    uploads.write_bytes(encode(upload("ad-a", photo())) + b"\n")
    return results, uploads


def test_a_results_file_becomes_a_report(files: tuple[Path, Path], tmp_path: Path) -> None:
    results, uploads = files
    out = tmp_path / "out" / "report.html"
    done = explain("--results", str(results), "--uploads", str(uploads), "-o", str(out))
    assert done.exit_code == 0, done.output
    assert f"wrote {out}" in done.output and out.as_uri() in done.output
    dom = parse(out.read_text())
    assert [d.attrs["id"] for d in dom.find_all("details")] == ["ad-ad-a", "ad-ad-b", "ad-ad-c"]
    assert len(dom.find_all("img")) == 1  # only ad-a's upload was given


def test_ads_can_be_chosen(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert explain("--results", str(files[0]), "--ad-id", "ad-c", "--ad-id", "ad-a", "-o", str(out)).exit_code == 0
    assert [d.attrs["id"] for d in parse(out.read_text()).find_all("details")] == ["ad-ad-a", "ad-ad-c"]
    assert explain("--results", str(files[0]), "--max", "1", "-o", str(out)).exit_code == 0
    assert [d.attrs["id"] for d in parse(out.read_text()).find_all("details")] == ["ad-ad-c"]
    nothing = explain("--results", str(files[0]), "--ad-id", "nope", "-o", str(out))
    assert nothing.exit_code == 1 and "nothing to explain" in nothing.output


def test_exactly_one_source_is_required(files: tuple[Path, Path]) -> None:
    none = explain()
    assert none.exit_code == 2 and "exactly one" in none.output
    both = explain("--results", str(files[0]), "--from-topic")
    assert both.exit_code == 2 and "exactly one" in both.output


def test_the_copy_is_given_once_or_once_per_image(files: tuple[Path, Path]) -> None:
    images = [str(files[1]), str(files[1])]  # any existing files: refused before they are read
    done = explain(*images, "-t", "one", "-t", "two", "-t", "three")
    assert done.exit_code == 2 and "once per image (2), not 3 times" in done.output


def test_a_broken_results_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(encode(result()).decode() + "\n{not json\n")
    done = explain("--results", str(bad), "-o", str(tmp_path / "r.html"))
    assert done.exit_code == 1 and f"{bad}:2" in done.output


@pytest.mark.slow
def test_images_run_in_process_and_a_broken_one_is_a_dead_letter(tmp_path: Path) -> None:
    good = tmp_path / "astronaut.jpg"
    good.write_bytes(photo())
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "report.html"
    done = explain(str(good), str(broken), "--text", "Warm flight jackets at a fair price.", "--untrained",
                   "-o", str(out))
    assert done.exit_code == 0, done.output
    dom = parse(out.read_text())
    first, second = dom.find_all("details")
    assert first.attrs["data-outcome"] in ("positive", "neutral", "negative")
    assert first.find_all("div", class_="box", data_kind="face")  # the astronaut's face, from the evidence block
    assert len(first.find_all("section", class_="gate")[0].find_all("tbody")[0].find_all("tr")) == 6  # MiniLM-L6
    assert second.attrs["data-outcome"] == "dead-letter" and "describe" in second.text()
    assert "image_corrupt" in second.text() or "image_truncated" in second.text()


@pytest.mark.integration
def test_results_and_dead_letters_are_read_from_the_topics(broker_settings, tmp_path: Path) -> None:  # noqa: ANN001
    from kafka import KafkaProducer

    from streams.service.kafka_config import producer_options

    settings = broker_settings
    producer = KafkaProducer(**producer_options(settings))
    try:
        producer.send(settings.topic_sentiment, key=b"topic-ad-1", value=encode(result("topic-ad-1")))
        producer.send(settings.topic_deadletter, key=b"topic-ad-2", value=encode(dead_letter("topic-ad-2")))
        producer.flush()
    finally:
        producer.close()
    out = tmp_path / "report.html"
    done = runner.invoke(build_app(), ["explain", "--from-topic", "--ad-id", "topic-ad-1", "--ad-id", "topic-ad-2",
                                       "--idle-timeout", "2", "-o", str(out)],
                         env={"ADSENT_STATE_DIR": str(settings.state_dir),
                              "ADSENT_BROKER_PORT": str(settings.broker_port)})
    assert done.exit_code == 0, done.output
    outcomes = sorted(d.attrs["data-outcome"] for d in parse(out.read_text()).find_all("details"))
    assert outcomes == ["dead-letter", "positive"]
