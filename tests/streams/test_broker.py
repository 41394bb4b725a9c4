"""The embedded broker, for real: start, topics, 100 events through a consumer group, resume, stop."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from schemas import AdUploaded, decode, encode
from schemas.settings import Settings
from streams.devbroker import BrokerError, EmbeddedBroker
from streams.service.connect import prepare_cluster
from streams.service.kafka_config import client_options, producer_options
from streams.demo.samples import sample_ads
from tests.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", broker_port=free_port(), partitions_uploaded=3)


def produce(settings: Settings, events: list[AdUploaded]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(**producer_options(settings))
    for event in events:
        producer.send(settings.topic_uploaded, key=event.ad_id.encode(), value=encode(event))
    producer.flush()
    producer.close()


async def consume(settings: Settings, group: str, limit: int, idle_s: float = 3.0) -> list[AdUploaded]:
    """Read up to ``limit`` events in consumer group ``group``, committing after each batch."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(settings.topic_uploaded, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(settings))
    events: list[AdUploaded] = []
    await consumer.start()
    try:
        idle = 0.0
        while len(events) < limit and idle < idle_s:
            batches = await consumer.getmany(timeout_ms=250, max_records=limit - len(events))
            records = [record for part in batches.values() for record in part]
            idle = idle + 0.25 if not records else 0.0
            events.extend(decode(record.value, AdUploaded) for record in records)
            if records:
                await consumer.commit()
    finally:
        await consumer.stop()
    return events


def test_produce_consume_commit_resume(settings: Settings) -> None:
    broker = EmbeddedBroker.from_settings(settings)
    servers, topics, started = prepare_cluster(settings)
    try:
        assert started and servers == f"127.0.0.1:{settings.broker_port}"
        assert topics == {name: "created" for name in settings.topic_partitions()}
        assert prepare_cluster(settings)[1] == {name: "exists" for name in settings.topic_partitions()}

        sent = list(sample_ads(100, prefix="it"))
        produce(settings, sent)
        first = asyncio.run(consume(settings, "resume-group", limit=60))
        assert len(first) == 60
        rest = asyncio.run(consume(settings, "resume-group", limit=100))  # a restarted consumer resumes
        assert len(rest) == 40
        assert sorted(e.ad_id for e in first + rest) == sorted(e.ad_id for e in sent)
        assert {e.ad_id: e for e in first + rest} == {e.ad_id: e for e in sent}
        assert asyncio.run(consume(settings, "resume-group", limit=100, idle_s=1.0)) == []
    finally:
        assert broker.down()
    assert not broker.status().running
    assert not broker.down()


def test_topics_get_their_partition_counts(settings: Settings) -> None:
    from kafka import KafkaAdminClient

    broker = EmbeddedBroker.from_settings(settings)
    prepare_cluster(settings)
    try:
        admin = KafkaAdminClient(**client_options(settings))
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(list(settings.topic_partitions()))}
        admin.close()
        assert described == settings.topic_partitions()
    finally:
        broker.down()


def test_up_is_idempotent_and_status_reports(settings: Settings) -> None:
    broker = EmbeddedBroker.from_settings(settings)
    try:
        first = broker.up()
        second = broker.up()
        assert first.pid == second.pid and second.running and second.answering
    finally:
        broker.down()


def test_port_taken_is_a_clear_error(settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.broker_port))
        squatter.listen()
        with pytest.raises(BrokerError, match=f"port {settings.broker_port} .* is taken"):
            EmbeddedBroker.from_settings(settings).up()


def test_missing_binary_is_a_clear_error(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import streams.devbroker as broker_module

    monkeypatch.setattr(broker_module.importlib.resources, "files", lambda package: tmp_path)
    with pytest.raises(BrokerError, match="binary is missing"):
        EmbeddedBroker.from_settings(settings).up()


def test_external_cluster_starts_nothing(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    external = settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{free_port()}"})
    monkeypatch.setattr("streams.service.connect.ensure_topics", lambda s: {})
    servers, _, started = prepare_cluster(external)
    assert servers == external.kafka_bootstrap_servers and not started
    assert not EmbeddedBroker.from_settings(external).status().running


def test_kafka_python_checksums_in_c() -> None:
    """Without the crc32c package kafka-python checksums every record batch in pure Python (7 ms per 64 KB)."""
    from kafka.record import util

    assert util.crc32c_c is not None
