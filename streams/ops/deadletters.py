"""Read the dead-letter topic and send chosen dead letters back to their stage's input topic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from schemas import DeadLetter, SchemaError, decode
from schemas.pipeline import input_topic
from schemas.settings import Settings
from streams.service.fetch_backoff import poll_pausing
from streams.service.kafka_config import client_options, producer_options

REPLAY_GROUP_SUFFIX = "deadletter-replay"
POLL_S = 0.5  # longest one poll waits


def read_dead_letters(settings: Settings, group: str | None = None,
                      idle_s: float = 5.0) -> Iterator[tuple[object, DeadLetter]]:
    """(kafka record, dead letter) pairs up to the end of the topic as it is NOW.

    Stopping at the end offsets taken at the start matters for replay: a replayed ad that fails
    again writes a new dead letter, which this pass must not pick up. Without ``group`` reading
    starts at the oldest retained dead letter; with it, where the group's committed offsets point,
    and each yielded dead letter is committed once the caller asks for the next one.
    """
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(**client_options(settings), group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, max_partition_fetch_bytes=settings.kafka_max_message_bytes)
    try:
        topic = settings.topic_deadletter
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return
        consumer.assign(partitions)
        if group is None:
            consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if consumer.position(tp) < ends[tp]}
        pause_s = settings.empty_fetch_backoff_s
        idle_since = time.monotonic()
        while remaining and time.monotonic() - idle_since < idle_s:
            for tp, records in poll_pausing(consumer, POLL_S, pause_s).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    idle_since = time.monotonic()
                    try:
                        letter = decode(record.value, DeadLetter, settings.validation_policy())
                    except SchemaError:
                        letter = None  # not a dead letter of ours: skip it (and move past it)
                    if letter is not None:
                        yield record, letter
                    if group:
                        consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
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
