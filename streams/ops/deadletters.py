"""Read the dead-letter topic and send chosen dead letters back to their stage's input topic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from schemas import DeadLetter, SchemaError, decode
from schemas.pipeline import input_topic
from schemas.settings import Settings
from streams.ops.replay_ledger import PartitionLedger
from streams.service.fetch_backoff import poll_pausing
from streams.service.kafka_config import client_options, producer_options
from streams.service.letters import replay_headers

REPLAY_GROUP_SUFFIX = "deadletter-replay"
POLL_S = 0.5  # longest one poll waits


def is_parked(letter: DeadLetter, settings: Settings) -> bool:
    """Whether the letter's ad was replayed to its stage as often as allowed: it is not replayed again."""
    return letter.replays >= settings.deadletter_max_replays


def replay_group(settings: Settings) -> str:
    """The consumer group whose commits remember which dead letters replay has handled."""
    return f"{settings.kafka_consumer_group}-{REPLAY_GROUP_SUFFIX}"


def read_dead_letters(settings: Settings, idle_s: float = 5.0) -> Iterator[tuple[Any, DeadLetter]]:
    """(kafka record, dead letter) pairs from the oldest retained one up to the end of the topic as it is NOW."""
    with _consumer(settings) as consumer:
        partitions = _partitions(consumer, settings)
        for _, record, letter in _read(consumer, settings, partitions, None, idle_s):
            if letter is not None:
                yield record, letter


@dataclass
class ReplaySummary:
    """Letters one replay run sent back (a dry run: would send), left, found parked or without
    payload, and found handled by an earlier run."""

    replayed: int = 0
    skipped: int = 0
    without_payload: int = 0
    parked: int = 0
    handled_before: int = 0


def replay(settings: Settings, accept: Callable[[DeadLetter], bool] | None = None, dry_run: bool = False,
           on_replay: Callable[[DeadLetter, str], None] | None = None,
           on_parked: Callable[[DeadLetter], None] | None = None) -> ReplaySummary:
    """Send the payload of each dead letter (each accepted one, with a filter) back to its stage's input.

    Each dead letter is handled once, by whichever run selects it first: a consumer group remembers
    the handled ones (see :mod:`streams.ops.replay_ledger`), so running a replay twice, filtered or
    not, sends nothing twice; letters a filter leaves stay for a later run. A letter whose ad was
    replayed ``deadletter_max_replays`` times is parked: reported, never sent. Each sent message
    carries the ad's new replay count in its ``adsent-replays`` header, so a letter of its next
    failure counts one more. A dry run reads the group's memory and changes nothing.
    """
    from kafka import KafkaProducer

    summary = ReplaySummary()
    producer = None if dry_run else KafkaProducer(**producer_options(settings))
    try:
        with _consumer(settings, replay_group(settings)) as consumer:
            partitions = _partitions(consumer, settings)
            kept_from = consumer.beginning_offsets(partitions) if partitions else {}
            ledgers = {tp: _committed_ledger(consumer, tp).from_offset(kept_from[tp]) for tp in partitions}
            starts = {tp: ledger.offset for tp, ledger in ledgers.items()}
            changed: set[Any] = set()
            try:
                for tp, record, letter in _read(consumer, settings, partitions, starts):
                    ledger = ledgers[tp]
                    if ledger.is_handled(record.offset):
                        summary.handled_before += 1
                        continue
                    if letter is not None and accept is not None and not accept(letter):
                        summary.skipped += 1
                        continue
                    if letter is not None:
                        _count(letter, settings, summary, on_parked)
                    if dry_run:
                        if letter is not None and _sendable(letter, settings) and on_replay:
                            on_replay(letter, input_topic(settings, letter.stage))
                        continue
                    handled = ledger.with_handled(record.offset, settings.deadletter_replay_memory_bytes)
                    if letter is not None and _sendable(letter, settings):
                        _send_back(producer, settings, record, letter, on_replay)
                        _commit(consumer, tp, handled)
                    else:  # undecodable, parked or without payload: remembered, committed at the end
                        changed.add(tp)
                    ledgers[tp] = handled
            finally:
                for tp in changed:
                    _commit(consumer, tp, ledgers[tp])
    finally:
        if producer is not None:
            producer.close()
    return summary


def _count(letter: DeadLetter, settings: Settings, summary: ReplaySummary,
           on_parked: Callable[[DeadLetter], None] | None) -> None:
    if is_parked(letter, settings):
        summary.parked += 1
        if on_parked:
            on_parked(letter)
    elif letter.payload is None:
        summary.without_payload += 1
    else:
        summary.replayed += 1


def _sendable(letter: DeadLetter, settings: Settings) -> bool:
    return letter.payload is not None and not is_parked(letter, settings)


def _send_back(producer: Any, settings: Settings, record: Any, letter: DeadLetter,
               on_replay: Callable[[DeadLetter, str], None] | None) -> None:
    topic = input_topic(settings, letter.stage)
    sent = producer.send(topic, key=record.key, value=letter.payload, headers=replay_headers(letter.replays + 1))
    sent.get(timeout=30)
    if on_replay:
        on_replay(letter, topic)


@contextmanager
def _consumer(settings: Settings, group: str | None = None) -> Iterator[Any]:
    """A consumer of the dead-letter topic that commits only when told to (``group`` for commits)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(**client_options(settings), group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, max_partition_fetch_bytes=settings.kafka_max_message_bytes)
    try:
        yield consumer
    finally:
        consumer.close()


def _partitions(consumer: Any, settings: Settings) -> list[Any]:
    from kafka import TopicPartition

    topic = settings.topic_deadletter
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def _committed_ledger(consumer: Any, tp: Any) -> PartitionLedger:
    committed = consumer.committed(tp, metadata=True)
    return PartitionLedger(0) if committed is None else PartitionLedger.parse(committed.offset, committed.metadata)


def _commit(consumer: Any, tp: Any, ledger: PartitionLedger) -> None:
    from kafka.structs import OffsetAndMetadata

    consumer.commit({tp: OffsetAndMetadata(ledger.offset, ledger.metadata(), -1)})


def _read(consumer: Any, settings: Settings, partitions: list[Any], starts: dict[Any, int] | None,
          idle_s: float = 5.0) -> Iterator[tuple[Any, Any, DeadLetter | None]]:
    """(partition, kafka record, dead letter or None when undecodable) from ``starts`` (else the
    oldest) up to the end offsets taken now.

    Stopping at the end offsets taken at the start matters for replay: a replayed ad that fails
    again writes a new dead letter, which this pass must not pick up.
    """
    if not partitions:
        return
    consumer.assign(partitions)
    beginnings = consumer.beginning_offsets(partitions)
    for tp in partitions:  # letters deleted by retention are gone: start at the oldest one kept
        consumer.seek(tp, max(beginnings[tp], starts.get(tp, 0) if starts else 0))
    ends = consumer.end_offsets(partitions)
    remaining = {tp for tp in partitions if consumer.position(tp) < ends[tp]}
    policy = settings.validation_policy()
    idle_since = time.monotonic()
    while remaining and time.monotonic() - idle_since < idle_s:
        for tp, records in poll_pausing(consumer, POLL_S, settings.empty_fetch_backoff_s).items():
            for record in records:
                if record.offset >= ends[tp]:
                    break
                idle_since = time.monotonic()
                try:
                    letter = decode(record.value, DeadLetter, policy)
                except SchemaError:
                    letter = None  # not a dead letter of ours
                yield tp, record, letter
            if consumer.position(tp) >= ends[tp]:
                remaining.discard(tp)
