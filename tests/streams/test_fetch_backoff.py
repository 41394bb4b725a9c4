"""The pause after an empty fetch: kafka-python's poll loop (unit) and aiokafka's fetcher (real broker)."""

from __future__ import annotations

import asyncio
import time

import pytest

from streams.service.fetch_backoff import install_empty_fetch_backoff, poll_pausing


class FakeConsumer:
    """Answers ``poll`` from a script of results; records the timeouts it was asked for."""

    def __init__(self, answers: list[dict]) -> None:
        self.answers = answers
        self.timeouts: list[int] = []

    def poll(self, timeout_ms: int) -> dict:
        self.timeouts.append(timeout_ms)
        return self.answers.pop(0) if self.answers else {}


def test_poll_pausing_returns_the_first_records_and_polls_without_blocking():
    consumer = FakeConsumer([{}, {}, {"tp": ["r"]}])
    assert poll_pausing(consumer, timeout_s=5.0, pause_s=0.001) == {"tp": ["r"]}
    assert consumer.timeouts == [0, 0, 0]


def test_poll_pausing_gives_up_at_the_timeout_with_nothing():
    consumer = FakeConsumer([])
    assert poll_pausing(consumer, timeout_s=0.05, pause_s=0.01) == {}
    assert 2 <= len(consumer.timeouts) <= 7  # ~5 pauses of 10 ms, never a busy loop


def test_no_pause_is_a_plain_poll():
    consumer = FakeConsumer([{"tp": ["r"]}])
    assert poll_pausing(consumer, timeout_s=0.2, pause_s=0.0) == {"tp": ["r"]}
    assert consumer.timeouts == [200]


@pytest.mark.integration
def test_an_idle_aiokafka_consumer_pauses_between_empty_fetches(broker_settings):
    """The embedded broker answers empty fetches at once; with a 20 ms pause at most ~50 fetches a second go out."""
    from aiokafka import AIOKafkaConsumer

    from streams.service.kafka_config import bootstrap_servers

    fetches = 0

    async def count_fetches(consumer) -> None:
        nonlocal fetches
        client = consumer._client
        send = client.send

        async def counting_send(node_id, request, *args, **kwargs):
            nonlocal fetches
            fetches += type(request).__name__.startswith("FetchRequest")
            return await send(node_id, request, *args, **kwargs)

        client.send = counting_send
        await consumer.getmany(timeout_ms=2000)  # assignment done, first empty fetches out
        fetches = 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=200)

    async def main() -> None:
        install_empty_fetch_backoff(0.02)
        consumer = AIOKafkaConsumer(broker_settings.topic_deadletter, bootstrap_servers=bootstrap_servers(broker_settings),
                                    group_id="fetch-backoff-test", auto_offset_reset="latest")
        await consumer.start()
        try:
            await count_fetches(consumer)
        finally:
            await consumer.stop()

    try:
        asyncio.run(main())
    finally:
        install_empty_fetch_backoff(0.0)
    assert 1 <= fetches <= 80


def test_the_pause_applies_to_the_embedded_broker_unless_set():
    from schemas.settings import Settings

    assert Settings().empty_fetch_backoff_s == pytest.approx(0.010)  # embedded broker
    assert Settings(kafka_bootstrap_servers="kafka-1:9093").empty_fetch_backoff_s == 0.0  # real Kafka: no patch
    assert Settings(kafka_bootstrap_servers="kafka-1:9093", kafka_empty_fetch_backoff_ms=5).empty_fetch_backoff_s == \
        pytest.approx(0.005)
    assert Settings(kafka_empty_fetch_backoff_ms=0).empty_fetch_backoff_s == 0.0
