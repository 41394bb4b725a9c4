"""Faults with real workers on a real broker: every ad ends as exactly one result or dead letter.

Injected send failures and SIGTERM in the middle of a batch run on the model-free fault worker
(:mod:`tests.streams.fault_worker`); restarts of a worker and of the broker run the real worker
with all three stages.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from schemas import AdUploaded, ImageRef
from schemas.settings import Settings
from streams.devbroker import EmbeddedBroker
from streams.ops.client import publish
from streams.ops.worker_process import WorkerProcess, free_port
from streams.service.connect import prepare_cluster
from streams.service.delivery import EXIT_UNDELIVERED
from tests.streams.test_pipeline import ALL, small_ads
from tests.streams.workers import pipeline_settings, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def keys_on(settings: Settings, topic: str, idle_s: float = 1.5) -> Counter:
    """How many messages each key has on ``topic``, from the beginning."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.service.kafka_config import client_options

    consumer = KafkaConsumer(**client_options(settings), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        keys: Counter = Counter()
        while batch := consumer.poll(timeout_ms=int(idle_s * 1000)):
            for records in batch.values():
                keys.update(record.key.decode() for record in records)
        return keys
    finally:
        consumer.close()


def wait_for_outcomes(settings: Settings, output_topic: str, wanted: set[str], timeout_s: float) -> tuple[Counter, Counter]:
    """(outputs, dead letters) per ad id once every wanted ad has one, or at the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        outputs, letters = keys_on(settings, output_topic), keys_on(settings, settings.topic_deadletter)
        if wanted <= set(outputs) | set(letters) or time.monotonic() > deadline:
            return outputs, letters
        time.sleep(1.0)


def assert_each_ad_ended_once(wanted: set[str], outputs: Counter, letters: Counter, log: str = "") -> None:
    ended = Counter(outputs) + Counter(letters)
    assert set(ended) == wanted, f"missing {sorted(wanted - set(ended))}\n{log}"
    assert all(count == 1 for count in ended.values()), f"ended more than once: {ended.most_common(3)}"


# --- injected faults (model-free worker) ------------------------------------------------------------
def fault_worker(settings: Settings, log_dir: Path, name: str, **faults: str) -> WorkerProcess:
    return WorkerProcess(settings, "describe", log_dir / f"{name}.log",
                         command=[sys.executable, "-m", "tests.streams.fault_worker"],
                         extra_env={f"FAULT_{key.upper()}": value for key, value in faults.items()})


def text_ads(count: int, prefix: str) -> list[AdUploaded]:
    return [AdUploaded(ad_id=f"{prefix}-{i}", image=ImageRef(data=b"x"), text=f"soft leather {i}")
            for i in range(count)]


def finish_with_a_fresh_worker(settings: Settings, tmp_path: Path, ads: list[AdUploaded]) -> None:
    """Start a fault-free worker and check that every ad ends exactly once."""
    worker = fault_worker(settings, tmp_path, "second")
    try:
        worker.wait_ready(60)
        outputs, letters = wait_for_outcomes(settings, settings.topic_described, {a.ad_id for a in ads}, 60)
    finally:
        worker.stop()
    assert_each_ad_ended_once({a.ad_id for a in ads}, outputs, letters, worker.log_tail())


def test_failed_sends_are_sent_again_and_each_ad_ends_once(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "sendfail", describe_max_batch=4)
    worker = fault_worker(settings, tmp_path, "worker", failed_sends="5")
    try:
        worker.wait_ready(60)
        ads = text_ads(12, "sendfail")
        publish(settings, ads)
        outputs, letters = wait_for_outcomes(settings, settings.topic_described, {a.ad_id for a in ads}, 60)
        assert_each_ad_ended_once({a.ad_id for a in ads}, outputs, letters, worker.log_tail())
        worker.check_alive()
    finally:
        worker.stop()
    assert "retrying" in Path(worker.log_path).read_text()


def test_a_worker_that_cannot_deliver_exits_without_committing(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "undeliverable", describe_max_batch=4, publish_retry_deadline_s=2.0)
    ads = text_ads(8, "undeliverable")
    first = fault_worker(settings, tmp_path, "first", always_fail="1")
    try:
        first.wait_ready(60)
        publish(settings, ads)
        assert first.process.wait(60) == EXIT_UNDELIVERED
    finally:
        first.stop()
    finish_with_a_fresh_worker(settings, tmp_path, ads)


def test_sigterm_in_the_middle_of_a_batch_delivers_it_first(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "drain", describe_max_batch=4, describe_max_wait_s=0.5)
    ads = text_ads(8, "drain")
    first = fault_worker(settings, tmp_path, "first", batch_seconds="3")
    try:
        first.wait_ready(60)
        publish(settings, ads)
        while first.metric("adsent_stage_messages_in_total", stage="describe") == 0:  # a batch is in the stage
            time.sleep(0.1)
        first.terminate()
        assert first.process.wait(60) == 0
    finally:
        first.stop()
    delivered_before_the_stop = keys_on(settings, settings.topic_described)
    assert delivered_before_the_stop, "the batch in flight at the SIGTERM was not delivered"
    finish_with_a_fresh_worker(settings, tmp_path, ads)


def test_a_batch_stuck_past_the_drain_deadline_is_not_committed(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "stuck", describe_max_batch=4, describe_max_wait_s=0.5,
                                 shutdown_drain_s=2.0)
    ads = text_ads(8, "stuck")
    first = fault_worker(settings, tmp_path, "first", batch_seconds="30")
    try:
        first.wait_ready(60)
        publish(settings, ads)
        while first.metric("adsent_stage_messages_in_total", stage="describe") == 0:
            time.sleep(0.1)
        first.terminate()
        assert first.process.wait(60) == EXIT_UNDELIVERED  # the 30-second batch was not waited for
    finally:
        first.stop()
    finish_with_a_fresh_worker(settings, tmp_path, ads)


# --- restarts with the real worker --------------------------------------------------------------------
def run_through_a_fault(settings: Settings, tmp_path: Path, name: str, fault) -> tuple[set[str], Counter, Counter]:
    """Publish 24 ads to a real worker, apply ``fault(worker)`` after the first result, and wait.

    ``fault`` returns the worker that is to finish the stream (the same one, or a restarted one).
    """
    ads = small_ads(24, name)
    wanted = {ad.ad_id for ad in ads}
    worker = start_worker(settings, ALL, tmp_path, name="first")
    try:
        worker.wait_ready()
        publish(settings, ads)
        while not keys_on(settings, settings.topic_sentiment, idle_s=0.5):
            worker.check_alive()
        worker = fault(worker)
        outputs, letters = wait_for_outcomes(settings, settings.topic_sentiment, wanted, 300)
        return wanted, outputs, letters
    finally:
        worker.stop()


@pytest.mark.xfail(strict=False, reason="open bug: after a SIGTERM and a restart, some ads can stay without an "
                                       "outcome (4 of 24 in 1 of 4 clean runs); not yet diagnosed")
def test_a_worker_stopped_with_sigterm_and_started_again_finishes_the_stream(broker_settings, tmp_path) -> None:
    settings = pipeline_settings(broker_settings, "restart", partitions_uploaded=4)

    def restart(worker: WorkerProcess) -> WorkerProcess:
        assert worker.stop() == 0
        replacement = start_worker(settings, ALL, tmp_path, name="second")
        replacement.wait_ready()
        return replacement

    wanted, outputs, letters = run_through_a_fault(settings, tmp_path, "restart", restart)
    assert_each_ad_ended_once(wanted, outputs, letters)


def test_a_worker_killed_with_sigkill_is_replaced_without_restarting_the_broker(broker_settings, tmp_path) -> None:
    # The embedded broker never expires the killed worker's membership; the new worker removes it.
    settings = pipeline_settings(broker_settings, "kill", partitions_uploaded=4)

    def kill_and_replace(worker: WorkerProcess) -> WorkerProcess:
        worker.kill()
        worker.stop()
        replacement = start_worker(settings, ALL, tmp_path, name="second")
        replacement.wait_ready()
        return replacement

    wanted, outputs, letters = run_through_a_fault(settings, tmp_path, "kill", kill_and_replace)
    assert_each_ad_ended_once(wanted, outputs, letters)


@pytest.fixture
def own_broker(tmp_path) -> Settings:
    """A broker of this test alone, restarted in the middle of its stream."""
    settings = Settings(state_dir=tmp_path / "state", broker_port=free_port())
    prepare_cluster(settings)
    yield settings
    EmbeddedBroker.from_settings(settings).down()


def test_the_broker_restarted_in_the_middle_of_a_stream(own_broker, tmp_path) -> None:
    # The worker sees a new broker process and restarts itself in place (streams/service/broker_watch.py).
    settings = pipeline_settings(own_broker, "brokerrestart", partitions_uploaded=4)
    broker = EmbeddedBroker.from_settings(own_broker)

    def restart_the_broker(worker: WorkerProcess) -> WorkerProcess:
        broker.down()
        broker.up()
        return worker

    wanted, outputs, letters = run_through_a_fault(settings, tmp_path, "brokerrestart", restart_the_broker)
    assert_each_ad_ended_once(wanted, outputs, letters)
