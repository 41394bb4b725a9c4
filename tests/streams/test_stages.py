"""The stage engine: every record ends as one result; failures isolated, retried, dead-lettered."""

from __future__ import annotations

from schemas import AdUploaded, ImageRef, SourceRef, encode
from streams.service.stages import Emitted, Failed, InRecord
from tests.streams.conftest import UppercaseStage


def record(ad_id: str, text: str) -> InRecord:
    ad = AdUploaded(ad_id=ad_id, image=ImageRef(data=b"x"), text=text)
    return InRecord(encode(ad), ad_id.encode(), SourceRef(topic="ads.uploaded", partition=0, offset=7))


def sample(stage: UppercaseStage, name: str, **labels: str) -> float:
    return stage.metrics.registry.get_sample_value(name, {"stage": "describe", **labels}) or 0.0


def test_good_batch(uppercase_stage: UppercaseStage) -> None:
    results = uppercase_stage.run([record("a", "one"), record("b", "two")])
    assert [r.event.description.caption for r in results] == ["ONE", "TWO"]
    assert uppercase_stage.batches == [2]
    assert sample(uppercase_stage, "adsent_stage_messages_out_total") == 2


def test_undecodable_and_bad_image_become_dead_letters_in_order(uppercase_stage: UppercaseStage) -> None:
    garbage = InRecord(b"\xff not json", b"k-1", SourceRef(topic="ads.uploaded", partition=1, offset=3))
    results = uppercase_stage.run([record("a", "fine"), garbage, record("c", "a bad image here")])
    assert isinstance(results[0], Emitted)
    assert isinstance(results[1], Failed) and results[1].dead_letter.code == "invalid_encoding"
    assert results[1].dead_letter.ad_id == "k-1" and results[1].dead_letter.payload == garbage.value
    assert results[1].dead_letter.source.offset == 3
    assert isinstance(results[2], Failed) and results[2].dead_letter.code == "image_corrupt"
    assert sample(uppercase_stage, "adsent_stage_messages_failed_total", code="image_corrupt") == 1


def test_a_poison_ad_fails_alone(uppercase_stage: UppercaseStage) -> None:
    results = uppercase_stage.run([record("a", "ok"), record("p", "poison pill"), record("c", "ok too")])
    assert [type(r).__name__ for r in results] == ["Emitted", "Failed", "Emitted"]
    letter = results[1].dead_letter
    assert letter.code == "model_error" and letter.attempts == 3 and letter.exception_type == "ValueError"
    assert uppercase_stage.batches[0] == 3 and uppercase_stage.batches[1:] == [1, 1, 1, 1, 1]
    assert uppercase_stage.sleeps == [0.1, 0.2]  # exponential backoff between the poison ad's attempts


def test_transient_error_is_retried_then_succeeds(uppercase_stage: UppercaseStage) -> None:
    results = uppercase_stage.run([record("f", "flaky device")])
    assert isinstance(results[0], Emitted)
    assert uppercase_stage.sleeps == [0.1]
    assert sample(uppercase_stage, "adsent_stage_retries_total", code="model_error") == 1


def test_empty_batch(uppercase_stage: UppercaseStage) -> None:
    assert uppercase_stage.run([]) == []


def test_an_output_too_large_for_kafka_is_dead_lettered(stage_settings) -> None:
    from streams.service.metrics import Metrics

    stage = UppercaseStage(stage_settings.model_copy(update={"kafka_max_message_bytes": 2048}), Metrics())
    results = stage.run([record("s", "short"), record("l", "long " * 400)])
    assert isinstance(results[0], Emitted)
    assert isinstance(results[1], Failed) and results[1].dead_letter.code == "output_too_large"
    assert results[1].dead_letter.payload is None  # too large to ride along; the source ref remains
    assert results[1].dead_letter.source.offset == 7


def test_image_stages_describe_as_the_served_checkpoint_was_trained(tmp_path) -> None:
    """Parity: the checkpoint's describe.json decides; a conflicting environment refuses to start,
    or with ADSENT_DESCRIBE_OVERRIDE serves and says so in a metric."""
    import pytest

    from model.describe.config import DescribeConfig
    from model.describe.parity import DescribeMismatchError, save_describe_record
    from schemas.settings import Settings
    from streams.service.metrics import Metrics
    from streams.service.stages import DescribeStage

    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    save_describe_record(checkpoint, DescribeConfig(ocr_engine="rapidocr", max_faces=2))
    settings = Settings(state_dir=tmp_path, checkpoint_dir=checkpoint, device="cpu")
    stage = DescribeStage(settings, Metrics(), describer=object())
    assert (stage.describe_config.ocr_engine, stage.describe_config.max_faces) == ("rapidocr", 2)
    conflicting = settings.model_copy(update={"ocr_engine": "tesseract"})
    with pytest.raises(DescribeMismatchError, match="ADSENT_OCR_ENGINE"):
        DescribeStage(conflicting, Metrics(), describer=object())
    metrics = Metrics()
    stage = DescribeStage(conflicting.model_copy(update={"describe_override": True}), metrics, describer=object())
    assert stage.describe_config.ocr_engine == "tesseract"
    assert metrics.registry.get_sample_value("adsent_describe_config_overridden", {"setting": "ocr_engine"}) == 1


def test_the_features_stage_reads_the_described_bytes_and_fetches_nothing(tmp_path, monkeypatch) -> None:
    import hashlib

    import streams.service.fetch
    from schemas import AdDescribed, AdHeader, Description, ImageInfo, OcrResult
    from schemas.settings import Settings
    from streams.service.metrics import Metrics
    from streams.demo.samples import photo_jpeg
    from streams.service.stages import FeaturesStage

    def no_fetch(*args: object) -> bytes:
        raise AssertionError("a stage after describe fetched the image")

    monkeypatch.setattr(streams.service.fetch, "fetch_image", no_fetch)
    data = photo_jpeg("coffee")
    ad = AdUploaded(ad_id="ad-1", image=ImageRef(uri="https://cdn.example.com/coffee.jpg"), text="Fresh beans")
    info = ImageInfo(width=600, height=400, format="JPEG", sha256=hashlib.sha256(data).hexdigest())
    event = AdDescribed(ad=AdHeader.of(ad), image=data, description=Description(
        image=info, caption="", ocr=OcrResult(engine="none", text=""), visual_context=""))
    stage = FeaturesStage(Settings(state_dir=tmp_path, device="cpu"), Metrics(), extractor=object())
    assert stage.prepare(event).size == (600, 400)


class FailingStage(UppercaseStage):
    """Fails the prepare step of each ad whose copy is a key of ``errors`` with that exception."""

    def __init__(self, settings, metrics, errors: dict[str, Exception]) -> None:
        super().__init__(settings, metrics)
        self.errors = errors

    def prepare(self, event: AdUploaded) -> str:
        if event.text in self.errors:
            raise self.errors[event.text]
        return super().prepare(event)


def fitted(result: Failed, limit: int):
    """The letter as the dead-letter topic would get it: within the limit and readable."""
    from schemas import DeadLetter, decode

    assert isinstance(result, Failed)
    assert len(result.value) <= limit, f"a {len(result.value)}-byte dead letter exceeds {limit}"
    assert decode(result.value, DeadLetter) == result.dead_letter
    return result.dead_letter


def test_a_6_mb_upload_failing_on_a_control_character_host_gets_a_dead_letter_that_fits(stage_settings) -> None:
    """JSON escapes a control character as six bytes: a message of them once pushed the letter over the limit."""
    from streams.service.errors import StageError
    from streams.service.metrics import Metrics

    uri = "https://" + "\x01" * 2020 + "/ad.jpg"
    refused = StageError("fetch_refused", f"{uri}: host '{uri[8:-7]}' does not resolve")
    image = bytes(range(256)) * 18_395  # 4.7 MB: the upload is about 6.28 MB, base64 in JSON
    big = InRecord(encode(AdUploaded(ad_id="big", image=ImageRef(data=image), text="host")), b"big",
                   SourceRef(topic="ads.uploaded", partition=0, offset=9))
    assert 6_270_000 < len(big.value) < 6_280_000
    stage = FailingStage(stage_settings, Metrics(), {"host": refused})
    letter = fitted(stage.run([big])[0], stage_settings.kafka_max_message_bytes)
    assert letter.payload is None and letter.source.offset == 9  # the payload cannot ride along
    assert letter.message == refused.message and letter.code == "fetch_refused"


def test_the_message_is_cut_by_its_escaped_length_when_even_that_is_too_long(stage_settings) -> None:
    from streams.service.errors import StageError
    from streams.service.metrics import Metrics

    message = "\x02" * 4000
    settings = stage_settings.model_copy(update={"kafka_max_message_bytes": 2048})
    stage = FailingStage(settings, Metrics(), {"control": StageError("fetch_refused", message)})
    letter = fitted(stage.run([record("c", "control")])[0], 2048)
    assert letter.payload is None and 0 < len(letter.message) < 300 and message.startswith(letter.message)


def test_codes_are_plain_stable_text_in_dead_letters_and_metric_labels(stage_settings) -> None:
    """A str-Enum code used to label metrics 'ModelErrorCode.BAD_INPUT'; an odd code broke the letter."""
    from model.fusion.errors import ModelError, ModelErrorCode
    from streams.service.errors import StageError
    from streams.service.metrics import Metrics

    class ConnectionReset(OSError):
        code = "ECONNRESET"

    errors = {"enum": ModelError(ModelErrorCode.BAD_INPUT, "no tokenizer"), "upper": ConnectionReset("reset"),
              "odd": StageError("Weird code/ü!", "odd")}
    stage = FailingStage(stage_settings, Metrics(), errors)
    results = stage.run([record(f"ad-{text}", text) for text in errors])
    assert [fitted(r, stage_settings.kafka_max_message_bytes).code for r in results] == [
        "bad_input", "econnreset", "weird_code"]
    for code in ("bad_input", "econnreset", "weird_code"):
        assert sample(stage, "adsent_stage_messages_failed_total", code=code) == 1
    labels = {s.labels["code"] for m in stage.metrics.registry.collect() for s in m.samples if "code" in s.labels}
    assert labels == {"bad_input", "econnreset", "weird_code"}


def test_a_dead_letter_carries_the_replay_count_of_its_record(uppercase_stage: UppercaseStage) -> None:
    replayed = InRecord(record("b", "bad image").value, b"b", replays=2)
    assert uppercase_stage.run([replayed])[0].dead_letter.replays == 2
    assert uppercase_stage.run([record("b", "bad image")])[0].dead_letter.replays == 0


def test_classify_counts_sentiments_by_a_bounded_platform_label(stage_settings) -> None:
    """Named platforms (any case) keep their own label value; every other platform is counted as 'other'."""
    from tests.streams.classify_factories import canned_classify, features_record as features

    settings = stage_settings.model_copy(update={"metrics_platforms": ("TikTok", "instagram")})
    stage = canned_classify(settings)
    results = stage.run([features("a", "tiktok"), features("b", "Instagram"), features("c", "myspace"),
                         features("d", "unknown")])
    assert all(isinstance(r, Emitted) for r in results)
    registry = stage.metrics.registry
    for platform, ads in (("tiktok", 1), ("instagram", 1), ("other", 2)):
        assert registry.get_sample_value("adsent_overall_sentiments_emitted_total",
                                         {"sentiment": "positive", "platform": platform}) == ads
        assert registry.get_sample_value("adsent_sentiments_emitted_total",
                                         {"sentiment": "negative", "dimension": "color", "platform": platform}) == ads
    labels = {s.labels["platform"] for f in registry.collect() for s in f.samples if "platform" in s.labels}
    assert labels == {"tiktok", "instagram", "other"}
