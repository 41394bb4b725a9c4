"""Ending batches: outputs acknowledged before the batch may be, retries, fail-stop, drain, de-duplication."""

from __future__ import annotations

import asyncio
import time

import pytest

from schemas import AdUploaded, ImageRef, decode, encode
from schemas.events import DeadLetter
from schemas.settings import Settings
from streams.service.delivery import (BatchDelivery, Deduplicator, DrainWatchdog, Route, UndeliveredError,
                                      batch_deadline_s, publish_results)
from streams.service.metrics import Metrics
from streams.service.stages import Emitted, InRecord
from tests.streams.conftest import UppercaseStage

ROUTE = Route(source="ads.uploaded", sink="ads.described", max_batch=4, max_wait_s=0.0)


class FlakyPublisher:
    """Fails the first ``failures`` sends (or those whose key is in ``refuse``), records the rest."""

    def __init__(self, failures: int = 0, refuse: frozenset[bytes] = frozenset()) -> None:
        self.failures = failures
        self.refuse = refuse
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        if self.failures > 0 or key in self.refuse:
            self.failures -= 1
            raise TimeoutError("broker did not answer")
        self.sent.append((topic, key, value))


class FakeTable(dict):
    pass


def records(*ids: str) -> list[InRecord]:
    return [InRecord(value=encode(AdUploaded(ad_id=i, image=ImageRef(data=b"x"), text=f"copy of {i}")),
                     key=i.encode()) for i in ids]


def emitted(ad_id: str, digest: str = "d1") -> Emitted:
    return Emitted(ad_id, event=None, value=ad_id.encode(), digest=digest)  # type: ignore[arg-type]


def delivery(settings: Settings, publisher, stage=None, dedupe=None) -> tuple[BatchDelivery, list[str]]:
    stage = stage or UppercaseStage(settings, Metrics())
    undelivered: list[str] = []

    async def run_stage(batch):
        return stage.run(batch)

    async def no_sleep(seconds: float) -> None:
        return None

    return BatchDelivery(stage, ROUTE, settings, publisher, run_stage, dedupe,
                         on_undelivered=undelivered.append, sleep=no_sleep), undelivered


async def cancel_mid_batch(batch: BatchDelivery) -> None:
    """Start delivering one ad, cancel the delivery 50 ms in, and expect the cancellation to go on."""
    task = asyncio.ensure_future(batch.deliver_or_drain(records("ad-1")))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- de-duplication ----------------------------------------------------------------------------------
def test_a_result_is_remembered_only_once_its_send_was_acknowledged() -> None:
    dedupe = Deduplicator(FakeTable(), Metrics(), "classify", window_s=60)
    publisher = FlakyPublisher(refuse=frozenset({b"ad-2"}))
    failed = asyncio.run(publish_results([emitted("ad-1"), emitted("ad-2")], ROUTE, Settings(), publisher, dedupe))
    assert [r.ad_id for r in failed] == ["ad-2"]
    assert dedupe.seen("ad-1", "d1") and not dedupe.seen("ad-2", "d1")


def test_a_re_upload_with_new_content_gets_a_new_result_and_a_copy_does_not() -> None:
    dedupe = Deduplicator(FakeTable(), Metrics(), "classify", window_s=60)
    publisher = FlakyPublisher()
    asyncio.run(publish_results([emitted("ad-1", "image-a")], ROUTE, Settings(), publisher, dedupe))
    asyncio.run(publish_results([emitted("ad-1", "image-a"), emitted("ad-1", "image-b"), emitted("ad-1", "image-b")],
                                ROUTE, Settings(), publisher, dedupe))
    assert [key for _, key, _ in publisher.sent] == [b"ad-1", b"ad-1"]  # the first, then the new image once


def test_the_table_forgets_ads_after_its_window() -> None:
    now = [1000.0]
    table = FakeTable()
    dedupe = Deduplicator(table, Metrics(), "classify", window_s=60, clock=lambda: now[0])
    dedupe.remember("ad-1", "d1")
    now[0] += 30
    dedupe.remember("ad-2", "d1")
    assert dedupe.seen("ad-1", "d1")
    now[0] += 40  # ad-1 is 70 s old, ad-2 40 s
    assert not dedupe.seen("ad-1", "d1") and dedupe.seen("ad-2", "d1")
    assert dedupe.expire() == 1 and set(table) == {b"ad-2"}


def test_an_entry_of_an_older_release_does_not_suppress() -> None:
    table = FakeTable({b"ad-1": b"2026-11-01T00:00:00+00:00"})
    assert not Deduplicator(table, Metrics(), "classify", window_s=60).seen("ad-1", "d1")


# --- delivering a batch --------------------------------------------------------------------------------
def test_failed_sends_are_sent_again_until_delivered(stage_settings) -> None:
    publisher = FlakyPublisher(failures=3)
    batch, undelivered = delivery(stage_settings, publisher)
    asyncio.run(batch.deliver(records("ad-1", "ad-2")))
    assert sorted(key for _, key, _ in publisher.sent) == [b"ad-1", b"ad-2"] and not undelivered


def test_sends_failing_past_the_deadline_fail_stop(stage_settings) -> None:
    settings = stage_settings.model_copy(update={"publish_retry_deadline_s": 0.2, "retry_backoff_s": 0.05})
    batch, undelivered = delivery(settings, FlakyPublisher(failures=10**6))
    batch._sleep = asyncio.sleep  # real waiting, so the deadline passes
    with pytest.raises(UndeliveredError):
        asyncio.run(batch.deliver(records("ad-1")))
    assert undelivered and "could not be sent" in undelivered[0]


def test_a_stage_that_raises_turns_the_batch_into_replayable_dead_letters(stage_settings) -> None:
    stage = UppercaseStage(stage_settings, Metrics())
    stage.run = lambda batch: (_ for _ in ()).throw(RuntimeError("engine bug"))  # type: ignore[method-assign]
    publisher = FlakyPublisher()
    batch, _ = delivery(stage_settings, publisher, stage=stage)
    batch_records = records("ad-1", "ad-2")
    asyncio.run(batch.deliver(batch_records))
    letters = [decode(value, DeadLetter) for topic, _, value in publisher.sent]
    assert {topic for topic, _, _ in publisher.sent} == {stage_settings.topic_deadletter}
    assert [(letter.code, letter.payload) for letter in letters] == [("internal_error", r.value) for r in batch_records]


def test_a_cancelled_batch_is_delivered_before_the_cancellation_goes_on(stage_settings) -> None:
    publisher = FlakyPublisher()
    batch, undelivered = delivery(stage_settings, publisher)

    async def slow_run(batch_records):
        await asyncio.sleep(0.2)
        return UppercaseStage(stage_settings, Metrics()).run(batch_records)

    batch.run_stage = slow_run

    asyncio.run(cancel_mid_batch(batch))
    assert [key for _, key, _ in publisher.sent] == [b"ad-1"] and not undelivered


def test_a_cancelled_batch_that_does_not_end_within_the_drain_deadline_fail_stops(stage_settings) -> None:
    settings = stage_settings.model_copy(update={"shutdown_drain_s": 0.1})
    batch, undelivered = delivery(settings, FlakyPublisher())

    async def stuck(batch_records):
        await asyncio.sleep(5)

    batch.run_stage = stuck

    asyncio.run(cancel_mid_batch(batch))
    assert undelivered and "did not end" in undelivered[0]


def test_the_drain_watchdog_fail_stops_only_while_a_batch_is_in_flight() -> None:
    calls: list[str] = []
    in_flight = [["describe"]]
    watchdog = DrainWatchdog(lambda: in_flight[0], drain_s=0.05, on_undelivered=calls.append)
    watchdog.stop_requested()
    watchdog.stop_requested()  # a second signal does not start a second clock
    time.sleep(0.2)
    assert len(calls) == 1 and "describe" in calls[0]
    idle = DrainWatchdog(lambda: [], drain_s=0.01, on_undelivered=calls.append)
    idle.stop_requested()
    time.sleep(0.1)
    assert len(calls) == 1


def test_the_batch_deadline_follows_the_settings() -> None:
    settings = Settings(max_attempts=3, retry_backoff_s=0.5, stage_ad_budget_s=10, image_fetch_deadline_s=15,
                        publish_retry_deadline_s=60)
    stage = UppercaseStage(settings, Metrics())
    fetching = type("Fetching", (UppercaseStage,), {"fetches": True})(settings, Metrics())
    # per ad: 3 attempts x budget (+ fetch deadline when fetching) + backoff 0.5 + 1.0; + one batch try + sends
    assert batch_deadline_s(settings, stage, 2) == pytest.approx(2 * (3 * 10 + 1.5) + 10 + 60)
    assert batch_deadline_s(settings, fetching, 1) == pytest.approx(3 * 25 + 1.5 + 10 + 60)
    assert batch_deadline_s(settings.model_copy(update={"stage_batch_deadline_s": 7.0}), stage, 2) == 7.0


def test_a_send_that_is_never_acknowledged_counts_as_failed() -> None:
    class SilentBroker:
        async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
            await asyncio.sleep(3600)

    settings = Settings(kafka_send_timeout_s=0.05)
    failed = asyncio.run(publish_results([emitted("ad-1")], ROUTE, settings, SilentBroker()))
    assert [r.ad_id for r in failed] == ["ad-1"]
