"""Dead letters: they always fit in a Kafka message, replay counts travel, replay sends each letter once."""

from __future__ import annotations

import pytest

from schemas import DeadLetter, SourceRef, decode, encode
from streams.ops.replay_ledger import PartitionLedger, ReplayMemoryFullError
from streams.service.letters import REPLAYS_HEADER, encoded_length, fit, replay_headers, replays_of


def letter(**fields: object) -> DeadLetter:
    base = {"ad_id": "ad-1", "stage": "describe", "code": "image_corrupt", "message": "cannot decode",
            "exception_type": "ImageError", "payload": b"{}", "source": SourceRef(topic="t", partition=0, offset=1)}
    return DeadLetter(**{**base, **fields})


@pytest.mark.parametrize("text", ["plain " * 600, "\x01" * 3000, "é€😀" * 900, "\"\\\n" * 1300])
@pytest.mark.parametrize("limit", [1024, 2000, 9000])
def test_a_letter_is_cut_to_its_limit_by_encoded_length(text: str, limit: int) -> None:
    fitted, value = fit(letter(message=text, payload=b"x" * 5000), limit)
    assert len(value) <= limit and decode(value, DeadLetter) == fitted
    assert text.startswith(fitted.message)
    if fitted.message != text:  # cut no more than needed: one more character would not fit
        assert fitted.payload is None
        longer = fitted.model_copy(update={"message": text[:len(fitted.message) + 1]})
        assert len(encode(longer)) > limit


def test_a_letter_that_fits_keeps_its_payload() -> None:
    original = letter(message="\x01" * 100, payload=b"p" * 600)
    fitted, value = fit(original, 2048)
    assert fitted == original and value == encode(original)


def test_encoded_length_counts_json_escapes() -> None:
    assert encoded_length("ab") == 2 and encoded_length("\x01") == 6 and encoded_length('"') == 2
    assert encoded_length("é") == 2  # raw UTF-8


def test_the_replay_count_travels_in_a_header() -> None:
    assert replays_of(replay_headers(3)) == 3
    assert replays_of({REPLAYS_HEADER: b"2"}) == 2
    for headers in (None, [], [("other", b"4")], [(REPLAYS_HEADER, b"x")], [(REPLAYS_HEADER, b"-3")],
                    [(REPLAYS_HEADER, None)]):
        assert replays_of(headers) == 0


def test_the_ledger_remembers_letters_handled_past_the_committed_offset() -> None:
    ledger = PartitionLedger(10)
    for offset in (12, 15, 5):
        ledger = ledger.with_handled(offset, 4000)
    assert ledger.offset == 10 and ledger.handled == {12, 15}
    assert [o for o in range(8, 17) if ledger.is_handled(o)] == [8, 9, 12, 15]
    assert PartitionLedger.parse(ledger.offset, ledger.metadata()) == ledger
    ledger = ledger.with_handled(10, 4000).with_handled(11, 4000)  # the front moves on past 12
    assert (ledger.offset, ledger.handled) == (13, {15})
    ledger = ledger.with_handled(13, 4000).with_handled(14, 4000)
    assert (ledger.offset, ledger.handled, ledger.metadata()) == (16, frozenset(), "")


def test_a_full_ledger_refuses_before_it_changes() -> None:
    import random

    ledger = PartitionLedger(0)
    with pytest.raises(ReplayMemoryFullError, match="ADSENT_DEADLETTER_REPLAY_MEMORY_BYTES"):
        for offset in random.Random(7).sample(range(1, 50_000), 1000):
            ledger = ledger.with_handled(offset, 300)
    assert 0 < len(ledger.metadata()) <= 300 and ledger.offset == 0


def test_letters_deleted_by_retention_count_as_handled() -> None:
    ledger = PartitionLedger(3, frozenset({5, 9, 12}))
    assert ledger.from_offset(2) == ledger
    assert ledger.from_offset(8) == PartitionLedger(8, frozenset({9, 12}))
    assert ledger.from_offset(9) == PartitionLedger(10, frozenset({12}))


def test_unreadable_ledger_metadata_starts_afresh() -> None:
    assert PartitionLedger.parse(4, "something else") == PartitionLedger(4)
    assert PartitionLedger.parse(4, "adsent-replayed-1:not base64!") == PartitionLedger(4)


# --- against the embedded broker -------------------------------------------------------------------------
def dead_letter_settings(broker_settings, name: str):
    from streams.service.topics import ensure_topics
    from tests.streams.workers import pipeline_settings

    settings = pipeline_settings(broker_settings, name)
    ensure_topics(settings)
    return settings


def write_letters(settings, letters: list[DeadLetter]) -> None:
    from kafka import KafkaProducer

    from streams.service.kafka_config import producer_options

    producer = KafkaProducer(**producer_options(settings))
    for item in letters:
        producer.send(settings.topic_deadletter, key=item.ad_id.encode(), value=encode(item))
    producer.flush()
    producer.close()


def sent_back(settings) -> list[tuple[bytes, int]]:
    """(value, replay count) of every message on the describe stage's input topic."""
    from kafka import KafkaConsumer

    from streams.service.kafka_config import client_options

    consumer = KafkaConsumer(settings.topic_uploaded, **client_options(settings), auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=2000)
    messages = sorted((record.value, replays_of(record.headers)) for record in consumer)
    consumer.close()
    return messages


def mixed_letters() -> list[DeadLetter]:
    return [letter(ad_id="a-1", payload=b"one"),
            letter(ad_id="a-2", code="fetch_failed", payload=b"two"),
            letter(ad_id="a-3", payload=b"three", replays=1),
            letter(ad_id="a-4", payload=b"four", replays=3),  # replayed as often as allowed: parked
            letter(ad_id="a-5", payload=None)]


@pytest.mark.integration
def test_a_filtered_replay_run_twice_sends_each_letter_once(broker_settings) -> None:
    from streams.ops.deadletters import replay

    settings = dead_letter_settings(broker_settings, "replay-twice")
    write_letters(settings, mixed_letters())

    def corrupt(item: DeadLetter) -> bool:
        return item.code == "image_corrupt"

    first = replay(settings, corrupt)
    assert (first.replayed, first.skipped, first.parked, first.without_payload) == (2, 1, 1, 1)
    second = replay(settings, corrupt)
    assert (second.replayed, second.skipped, second.handled_before) == (0, 1, 3)  # read from a-2 on
    assert sent_back(settings) == [(b"one", 1), (b"three", 2)]  # each with its new replay count

    rest = replay(settings)  # unfiltered: only the letter the filter left
    assert (rest.replayed, rest.handled_before) == (1, 3)
    assert replay(settings).replayed == 0
    assert sent_back(settings) == [(b"one", 1), (b"three", 2), (b"two", 1)]


@pytest.mark.integration
def test_the_commands_report_and_count_parked_letters(broker_settings) -> None:
    from typer.testing import CliRunner

    from streams.cli import build_app
    from streams.ops.worker_process import settings_env

    settings = dead_letter_settings(broker_settings, "replay-cli")
    write_letters(settings, mixed_letters())
    env = {k: v for k, v in settings_env(settings).items() if k.startswith("ADSENT_")}
    listed = CliRunner().invoke(build_app(), ["deadletters", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert [line.split()[2] for line in listed.output.splitlines() if " a-" in line][:5] == [
        "a-1", "a-2", "a-3", "a-4", "a-5"]
    assert " parked " in next(line for line in listed.output.splitlines() if " a-4 " in line)
    assert "     1  parked: replayed 3 times" in listed.output
    replayed = CliRunner().invoke(build_app(), ["deadletters", "replay", "--ad-id", "a-4", "--ad-id", "a-1"], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "parked a-4 (describe/image_corrupt): replayed 3 times" in replayed.output
    assert "1 replayed, 3 not selected, 0 without payload, 1 parked" in replayed.output
