"""End to end through the real embedded broker with real worker processes and real models."""

from __future__ import annotations

import base64
import io
import json
import time
from collections import Counter

import pytest
from PIL import Image

from schemas import AdSentiment, AdUploaded, DeadLetter, ImageRef, decode
from streams.ops.client import Follower, publish, publish_raw
from streams.demo.samples import sample_ads
from streams.ops.worker_process import stop_all
from tests.streams.workers import pipeline_settings, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALL = "describe,features,classify"


def small_ads(count: int, prefix: str) -> list[AdUploaded]:
    """Sample ads with their photos shrunk to 256 px, so OCR and faces stay quick."""
    ads = []
    for ad in sample_ads(count, prefix=prefix):
        image = Image.open(io.BytesIO(ad.image.data)).convert("RGB")
        image.thumbnail((256, 256))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        ads.append(ad.model_copy(update={"image": ImageRef(data=buffer.getvalue())}))
    return ads


def raw_bad_ads(prefix: str) -> list[tuple[str, bytes, str]]:
    """(key, raw message, expected dead-letter code) for ten kinds of bad input."""
    good = json.loads(small_ads(1, f"{prefix}-tpl")[0].model_dump_json())
    jpeg = base64.b64decode(good["image"]["data"])

    def variant(n: int, **changes: object) -> tuple[str, bytes]:
        body = {**good, "ad_id": f"{prefix}-bad-{n}", **changes}
        return body["ad_id"], json.dumps(body).encode()

    def image(data: bytes) -> dict:
        return {"data": base64.b64encode(data).decode()}

    cases = [
        (f"{prefix}-bad-0", b'{"ad_id": "truncated json', "invalid_json"),
        (*variant(1, schema_version=99), "unknown_schema_version"),
        (*variant(2, image={"uri": "file:///etc/passwd"}), "uri_not_allowed"),
        (*variant(3, image={"uri": "http://169.254.169.254/latest/meta-data/"}), "uri_not_allowed"),
        (*variant(4, image=image(b"\x00garbage" * 40)), "image_corrupt"),
        (*variant(5, image=image(jpeg[: len(jpeg) // 2])), "image_truncated"),
        (*variant(6, image=image(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n")), "image_unsupported_format"),
        (*variant(7, text="x" * 6000), "too_long"),
        (*variant(8, surprise="field"), "unexpected_field"),
        (f"{prefix}-bad-9", b"\xff\xfe\x00 not utf-8", "invalid_encoding"),
    ]
    return cases


def read_all(settings, topic: str, model, idle_s: float = 3.0) -> list:
    from kafka import KafkaConsumer

    from streams.service.kafka_config import client_options

    consumer = KafkaConsumer(topic, **client_options(settings), auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=int(idle_s * 1000))
    events = [decode(record.value, model) for record in consumer]
    consumer.close()
    return events


def test_good_and_bad_ads_end_as_results_or_dead_letters(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "e2e")
    worker = start_worker(settings, ALL, tmp_path)
    try:
        worker.wait_ready()
        follower = Follower(settings)
        good = small_ads(50, "e2e")
        bad = raw_bad_ads("e2e")
        publish(settings, good)
        publish_raw(settings, [(key, value) for key, value, _ in bad])
        wanted = {ad.ad_id for ad in good} | {key for key, _, _ in bad}
        found = follower.wait_for(wanted, timeout_s=600)
        follower.close()
        assert set(found) == wanted, f"missing: {sorted(wanted - set(found))}\n{worker.log_tail()}"
        for ad in good:
            result = found[ad.ad_id].result
            assert result is not None, found[ad.ad_id].dead_letter
            assert result.texts.caption and result.overall.label in ("positive", "neutral", "negative")
            assert result.end_to_end_seconds >= 0 and {"describe", "features", "classify"} <= set(result.stage_seconds)
        for key, value, code in bad:
            letter = found[key].dead_letter
            assert letter is not None and letter.code == code, (key, letter)
            assert letter.payload == value
        # Ins reconcile with outs, per stage, in the worker's own counters.
        metric = worker.metric
        assert metric("adsent_stage_messages_in_total", stage="describe") == 60
        assert metric("adsent_stage_messages_out_total", stage="describe") == 50
        failed = sum(v for (name, labels), v in worker.metrics().items()
                     if name == "adsent_stage_messages_failed_total" and ("stage", "describe") in labels)
        assert failed == 10
        assert metric("adsent_stage_messages_in_total", stage="classify") == 50
        assert metric("adsent_stage_messages_out_total", stage="classify") == 50
        assert metric("adsent_end_to_end_seconds_count") == 50
        assert sum(metric("adsent_overall_sentiments_emitted_total", sentiment=s, platform="other")
                   for s in ("positive", "neutral", "negative")) == 50  # the sample ads' platform is not named
        codes = Counter(code for _, _, code in bad)
        for code, count in codes.items():
            assert metric("adsent_stage_messages_failed_total", stage="describe", code=code) == count
        assert len(read_all(settings, settings.topic_sentiment, AdSentiment)) == 50
    finally:
        worker.stop()


def assigned_partitions(worker, topic: str) -> int:
    """How many partitions of ``topic`` the worker reports lag for (it does for those it holds)."""
    return sum(1 for (name, labels), _ in worker.metrics().items()
               if name == "adsent_consumer_lag_messages" and ("topic", topic) in labels)


def wait_until_the_group_is_stable(workers, topic: str, partitions: int, timeout_s: float = 120.0) -> None:
    """Until the workers together hold every partition of ``topic``, each at least one.

    Workers join one after the other and ads are published only then: two members joining the
    embedded broker's group at the same moment can leave one of them with an empty assignment,
    which aiokafka's coordinator does not survive (a broker flaw tracked with the delivery work)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        held = [assigned_partitions(w, topic) for w in workers]
        if all(held) and sum(held) == partitions:
            return
        time.sleep(1.0)
    raise AssertionError(f"the group did not settle on {topic}: partitions held per worker {held}")


def test_two_workers_share_the_partitions(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "pair")
    workers = []
    try:
        for i in range(2):  # one after the other (see wait_until_the_group_is_stable)
            workers.append(start_worker(settings, ALL, tmp_path, name=f"w{i}"))
            workers[-1].wait_ready()
        wait_until_the_group_is_stable(workers, settings.topic_uploaded, settings.partitions_uploaded)
        ads = small_ads(24, "pair")
        follower = Follower(settings)
        publish(settings, ads)
        found = follower.wait_for({ad.ad_id for ad in ads}, timeout_s=600)
        follower.close()
        assert set(found) == {ad.ad_id for ad in ads}
        per_worker = [w.metric("adsent_stage_messages_in_total", stage="describe") for w in workers]
        assert all(count > 0 for count in per_worker), per_worker
        assert sum(per_worker) == len(ads), per_worker
        results = read_all(settings, settings.topic_sentiment, AdSentiment)
        assert Counter(r.ad_id for r in results) == Counter(ad.ad_id for ad in ads)
    finally:
        stop_all(workers)


def test_exactly_once_setting_on_the_embedded_broker(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "eos", processing_guarantee="exactly_once")
    worker = start_worker(settings, ALL, tmp_path)
    try:
        worker.wait_ready()
        ads = small_ads(8, "eos")
        follower = Follower(settings)
        publish(settings, ads)
        found = follower.wait_for({ad.ad_id for ad in ads}, timeout_s=300)
        follower.close()
        assert set(found) == {ad.ad_id for ad in ads}, worker.log_tail()
        results = read_all(settings, settings.topic_sentiment, AdSentiment)
        assert Counter(r.ad_id for r in results) == Counter(ad.ad_id for ad in ads)
    finally:
        worker.stop()


def test_client_commands_publish_tail_and_replay(broker_settings, tmp_path) -> None:
    from typer.testing import CliRunner

    from streams.cli import build_app
    from streams.demo.samples import photo_jpeg
    from streams.ops.worker_process import settings_env

    settings = pipeline_settings(broker_settings, "cli")
    worker = start_worker(settings, ALL, tmp_path)
    env = {k: v for k, v in settings_env(settings).items() if k.startswith("ADSENT_")}
    runner = CliRunner()
    image = tmp_path / "coffee.jpg"
    image.write_bytes(photo_jpeg("coffee"))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 this is not a jpeg")
    try:
        worker.wait_ready()
        published = runner.invoke(build_app(), ["publish", str(image), "--text", "Rich crema, smooth finish.",
                                                "--ad-id", "cli-1", "--wait", "--timeout", "300"], env=env)
        assert published.exit_code == 0, published.output
        result = decode(published.stdout.strip().splitlines()[-1].encode(), AdSentiment)
        assert result.ad_id == "cli-1" and result.texts.caption

        failed = runner.invoke(build_app(), ["publish", str(broken), "--text", "x", "--ad-id", "cli-2", "--wait",
                                             "--timeout", "300"], env=env)
        assert failed.exit_code == 1
        assert decode(failed.stdout.strip().splitlines()[-1].encode(), DeadLetter).code == "image_corrupt"

        tail = runner.invoke(build_app(), ["tail", "--from-beginning", "--max", "2", "--idle-timeout", "10"], env=env)
        assert tail.exit_code == 0 and "cli-1" in tail.output and "DEAD LETTER [describe/image_corrupt]" in tail.output

        listed = runner.invoke(build_app(), ["deadletters", "list"], env=env)
        assert "cli-2" in listed.output and "describe/image_corrupt" in listed.output
        dry = runner.invoke(build_app(), ["deadletters", "replay", "--code", "image_corrupt", "--dry-run"], env=env)
        assert "would replay cli-2 (describe/image_corrupt) -> cli.ads.uploaded" in dry.output
        replayed = runner.invoke(build_app(), ["deadletters", "replay"], env=env)
        assert "1 replayed" in replayed.output
        for _ in range(120):  # the replayed ad fails again: a second dead letter
            if runner.invoke(build_app(), ["deadletters", "list"], env=env).output.count("cli-2") == 2:
                break
            time.sleep(1)
        again = runner.invoke(build_app(), ["deadletters", "replay"], env=env)
        assert "1 replayed" in again.output  # only the new one: the group remembers how far replay got
    finally:
        worker.stop()
