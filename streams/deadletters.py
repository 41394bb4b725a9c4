"""Read the dead-letter topic and send chosen dead letters back to their stage's input topic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from schemas import DeadLetter, SchemaError, decode
from schemas.settings import Settings
from streams.kafka_config import client_options, producer_options

REPLAY_GROUP_SUFFIX = "deadletter-replay"


def input_topic(settings: Settings, stage: str) -> str:
    """The topic a stage reads: where its dead letters go back to."""
    return {"intake": settings.topic_uploaded, "describe": settings.topic_uploaded, "replay": settings.topic_uploaded,
            "features": settings.topic_described, "classify": settings.topic_features}[stage]


def read_dead_letters(settings: Settings, group: str | None = None, idle_s: float = 2.0) -> Iterator[tuple[object, DeadLetter]]:
    """(kafka record, dead letter) pairs from the oldest retained one; with ``group``, resumes there."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(settings.topic_deadletter, **client_options(settings), group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=int(idle_s * 1000),
                             max_partition_fetch_bytes=settings.kafka_max_message_bytes)
    try:
        for record in consumer:
            try:
                yield record, decode(record.value, DeadLetter, settings.validation_policy())
            except SchemaError:
                continue  # not a dead letter of ours
            if group:
                consumer.commit()
    finally:
        consumer.close()


@dataclass
class ReplaySummary:
    replayed: int = 0
    skipped: int = 0
    without_payload: int = 0


def replay(settings: Settings, accept: Callable[[DeadLetter], bool] | None = None, dry_run: bool = False,
           on_replay: Callable[[DeadLetter, str], None] | None = None) -> ReplaySummary:
    """Send the payload of each dead letter (each accepted one, with a filter) back to its stage's input.

    Without a filter, a consumer group remembers how far replay got, so running it twice does not
    replay twice. With a filter, every matching dead letter from the oldest retained one is replayed
    and nothing is remembered, so the ones not selected stay available to a later replay. Replaying
    an ad twice is harmless: results are de-duplicated by ad_id.
    """
    from kafka import KafkaProducer

    summary = ReplaySummary()
    producer = None if dry_run else KafkaProducer(**producer_options(settings))
    group = None if dry_run or accept is not None else f"{settings.kafka_consumer_group}-{REPLAY_GROUP_SUFFIX}"
    try:
        for record, letter in read_dead_letters(settings, group=group):
            if accept is not None and not accept(letter):
                summary.skipped += 1
                continue
            if letter.payload is None:
                summary.without_payload += 1
                continue
            topic = input_topic(settings, letter.stage)
            if producer is not None:
                producer.send(topic, key=record.key, value=letter.payload).get(timeout=30)
            summary.replayed += 1
            if on_replay:
                on_replay(letter, topic)
    finally:
        if producer is not None:
            producer.close()
    return summary
