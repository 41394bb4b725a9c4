"""Client side of the service: publish ads, follow results and dead letters (kafka-python)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from schemas import AdSentiment, AdUploaded, DeadLetter, SchemaError, decode, encode
from schemas.settings import Settings
from streams.service.fetch_backoff import poll_pausing
from streams.service.kafka_config import client_options, producer_options

POLL_S = 0.2  # longest a poll waits before the follower checks its own timeout


def publish(settings: Settings, ads: Sequence[AdUploaded]) -> None:
    """Send ads to the uploaded topic, keyed by ad_id, and wait until the broker has them."""
    publish_raw(settings, [(ad.ad_id, encode(ad)) for ad in ads])


def publish_raw(settings: Settings, messages: Sequence[tuple[str, bytes]]) -> None:
    """Send raw (key, value) messages to the uploaded topic, valid or not (tests, demos, replays)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(**producer_options(settings))
    try:
        for key, value in messages:
            producer.send(settings.topic_uploaded, key=key.encode(), value=value)
        producer.flush()
    finally:
        producer.close()


@dataclass(frozen=True)
class Outcome:
    """What became of one ad: its result or its dead letter."""

    ad_id: str
    result: AdSentiment | None = None
    dead_letter: DeadLetter | None = None


class Follower:
    """Reads the sentiment and dead-letter topics from their current end (or the beginning).

    Create it BEFORE publishing, so that no result is missed.
    """

    def __init__(self, settings: Settings, from_beginning: bool = False, dead_letters: bool = True) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self.settings = settings
        self.policy = settings.validation_policy()
        self.consumer = KafkaConsumer(**client_options(settings), enable_auto_commit=False,
                                      max_partition_fetch_bytes=settings.kafka_max_message_bytes)
        topics = [settings.topic_sentiment] + ([settings.topic_deadletter] if dead_letters else [])
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(self.consumer.partitions_for_topic(topic) or ())]
        self.consumer.assign(partitions)
        if from_beginning:
            self.consumer.seek_to_beginning(*partitions)
        else:
            self.consumer.seek_to_end(*partitions)
            for tp in partitions:  # resolve the lazy seek now, before anything is published
                self.consumer.position(tp)

    def outcomes(self, timeout_s: float | None = None) -> Iterator[Outcome]:
        """Yield outcomes as they arrive; stops after ``timeout_s`` with nothing new (None: never)."""
        last = time.monotonic()
        while timeout_s is None or time.monotonic() - last < timeout_s:
            batches = poll_pausing(self.consumer, POLL_S, self.settings.empty_fetch_backoff_s)
            for records in batches.values():
                for record in records:
                    outcome = self._outcome(record.topic, record.value)
                    if outcome is not None:
                        last = time.monotonic()
                        yield outcome

    def _outcome(self, topic: str, value: bytes) -> Outcome | None:
        model: type[BaseModel] = AdSentiment if topic == self.settings.topic_sentiment else DeadLetter
        try:
            event = decode(value, model, self.policy)
        except SchemaError:
            return None  # not ours to judge: a consumer of results skips what it cannot read
        if isinstance(event, AdSentiment):
            return Outcome(event.ad_id, result=event)
        return Outcome(event.ad_id or "?", dead_letter=event)

    def wait_for(self, ad_ids: set[str], timeout_s: float) -> dict[str, Outcome]:
        """Collect the first outcome of each wanted ad id until all arrived or ``timeout_s`` passed."""
        found: dict[str, Outcome] = {}
        deadline = time.monotonic() + timeout_s
        while len(found) < len(ad_ids) and time.monotonic() < deadline:
            for outcome in self.outcomes(timeout_s=min(1.0, max(deadline - time.monotonic(), 0.01))):
                if outcome.ad_id in ad_ids and outcome.ad_id not in found:
                    found[outcome.ad_id] = outcome
                if len(found) == len(ad_ids):
                    break
        return found

    def close(self) -> None:
        self.consumer.close()
