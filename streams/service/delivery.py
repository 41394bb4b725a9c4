"""Ending a batch: every record leaves as exactly one output or dead letter before its offset may be committed.

Faust acknowledges a ``take_events`` batch when the agent's loop moves on, whether the body
finished, raised or was cancelled; an acknowledged offset is committed soon after. So nothing
may leave the agent's body before the batch's outputs are acknowledged by the broker:

- a stage that raises (a bug: stages turn every per-ad failure into a dead letter) turns the whole
  batch into ``internal_error`` dead letters that carry the payloads, so they can be replayed;
- sends that fail are retried with backoff for ``publish_retry_deadline_s``; after that the worker
  stops at once without acknowledging (exit code :data:`EXIT_UNDELIVERED`), so a restarted worker
  reads the batch again;
- a SIGTERM (or a rebalance cancelling the agent) waits up to ``shutdown_drain_s`` for the batch
  in flight to be delivered; past that, the same fail-stop.
Results are at least once, so the classify stage de-duplicates them (:class:`Deduplicator`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from schemas.settings import Settings
from streams.service.errors import StageError
from streams.service.metrics import Metrics
from streams.service.stages import Emitted, Failed, InRecord, Result, Stage

log = logging.getLogger(__name__)

EXIT_UNDELIVERED = 75  # EX_TEMPFAIL: outputs could not be delivered; restart and read the batch again


def batch_deadline_s(settings: Settings, stage: Stage, max_batch: int) -> float:
    """How long one batch of ``stage`` may take before the worker counts as stuck (``/healthz`` fails).

    The worst case the settings allow: every ad fetched (if the stage fetches) and computed on each
    attempt with the backoff between, the batch's own try, and the retried sends.
    """
    if settings.stage_batch_deadline_s is not None:
        return settings.stage_batch_deadline_s
    per_attempt = settings.stage_ad_budget_s + (settings.image_fetch_deadline_s if getattr(stage, "fetches", False) else 0.0)
    backoff = settings.retry_backoff_s * (2 ** (settings.max_attempts - 1) - 1)
    return (max_batch * (settings.max_attempts * per_attempt + backoff) + settings.stage_ad_budget_s
            + settings.publish_retry_deadline_s)


class UndeliveredError(RuntimeError):
    """A batch's outcomes could not be delivered (raised only where the fail-stop is replaced, in tests)."""


class Publisher(Protocol):
    async def send(self, topic: str, key: bytes | None, value: bytes) -> None: ...


@dataclass(frozen=True)
class Route:
    """Where a stage reads and writes."""

    source: str
    sink: str
    max_batch: int
    max_wait_s: float


class Deduplicator:
    """Remembers, per ad id, the content digest of the result last delivered, for ``window_s``.

    A redelivered ad (same id, same image and copy) within the window is suppressed; a re-upload
    whose image or copy changed gets a new result. The table is a changelog-backed Faust table
    co-partitioned with the input; entries older than the window are ignored and removed by
    :meth:`expire`, so its size stays near ``window_s`` times the input rate.
    """

    def __init__(self, table: Any, metrics: Metrics, stage: str, window_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.metrics = metrics
        self.stage = stage
        self.window_s = window_s
        self._clock = clock

    def seen(self, ad_id: str, digest: str | None) -> bool:
        entry = self._entry(self.table.get(ad_id.encode()))
        if entry is None or self._clock() - entry["at"] > self.window_s or entry["digest"] != digest:
            return False
        self.metrics.duplicates.labels(self.stage).inc()
        return True

    def remember(self, ad_id: str, digest: str | None) -> None:
        """Call only once the result's send was acknowledged."""
        self.table[ad_id.encode()] = json.dumps({"digest": digest, "at": self._clock()}).encode()

    def expire(self) -> int:
        """Drop entries older than the window; returns how many."""
        now = self._clock()
        old = [key for key, value in list(self.table.items())
               if (entry := self._entry(value)) is None or now - entry["at"] > self.window_s]
        for key in old:
            del self.table[key]
        return len(old)

    @staticmethod
    def _entry(value: bytes | None) -> dict | None:
        if value is None:
            return None
        try:
            entry = json.loads(value)
            return entry if isinstance(entry, dict) and isinstance(entry.get("at"), (int, float)) else None
        except ValueError:  # an entry of an older release: ad_id -> emitted_at, no digest
            return None


async def publish_results(results: Sequence[Result], route: Route, settings: Settings, publisher: Publisher,
                          dedupe: Deduplicator | None = None) -> list[Result]:
    """Send each result to the sink or the dead-letter topic and wait for every acknowledgement.

    Returns the results whose send failed (to be sent again); a result is remembered for
    de-duplication only once its own send was acknowledged.
    """
    sent: list[Result] = []
    sends: list[Awaitable[None]] = []
    in_batch: set[tuple[str, str | None]] = set()
    for result in results:
        if isinstance(result, Emitted):
            key = (result.ad_id, result.digest)
            if dedupe is not None and (key in in_batch or dedupe.seen(*key)):
                log.info("ad %s was already emitted; redelivery suppressed", result.ad_id)
                continue
            in_batch.add(key)
            sends.append(publisher.send(route.sink, result.ad_id.encode(), result.value))
        else:
            key_bytes = result.dead_letter.ad_id.encode() if result.dead_letter.ad_id else None
            sends.append(publisher.send(settings.topic_deadletter, key_bytes, result.value))
        sent.append(result)
    timeout_s = settings.kafka_send_timeout_s
    outcomes = await asyncio.gather(*(asyncio.wait_for(send, timeout_s) for send in sends), return_exceptions=True)
    failed = []
    for result, outcome in zip(sent, outcomes):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if isinstance(outcome, BaseException):
            failed.append(result)
            log.warning("sending the outcome of ad %s failed: %s: %s", _ad_id(result), type(outcome).__name__, outcome)
        elif dedupe is not None and isinstance(result, Emitted):
            dedupe.remember(result.ad_id, result.digest)
    return failed


def _ad_id(result: Result) -> str | None:
    return result.ad_id if isinstance(result, Emitted) else result.dead_letter.ad_id


def fail_stop(reason: str) -> None:
    """Stop the process now, acknowledging nothing more: Kafka hands the batch to the next worker."""
    log.critical("%s; stopping without committing, so the batch is read again after a restart", reason)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(EXIT_UNDELIVERED)


class DrainWatchdog:
    """After a stop signal, gives the batches in flight ``drain_s`` to be delivered; then fail-stop.

    Faust finishes the batch an agent is in before it stops, however long that takes; a stage stuck
    in a model or a fetch would hold the stop until Kubernetes kills the pod. This bounds the wait.
    """

    def __init__(self, in_flight: Callable[[], list[str]], drain_s: float,
                 on_undelivered: Callable[[str], None] = fail_stop) -> None:
        self.in_flight = in_flight
        self.drain_s = drain_s
        self.on_undelivered = on_undelivered
        self._timer: threading.Timer | None = None

    def stop_requested(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.drain_s, self._check)
            self._timer.daemon = True
            self._timer.start()

    def _check(self) -> None:
        stages = self.in_flight()
        if stages:
            self.on_undelivered(f"the batch in flight in {', '.join(stages)} was not delivered within "
                                f"{self.drain_s:.0f} s of the stop signal")


class BatchDelivery:
    """Runs one stage's batches to their end (see the module docstring)."""

    def __init__(self, stage: Stage, route: Route, settings: Settings, publisher: Publisher,
                 run_stage: Callable[[Sequence[InRecord]], Awaitable[list[Result]]],
                 dedupe: Deduplicator | None = None, on_undelivered: Callable[[str], None] = fail_stop,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.stage = stage
        self.route = route
        self.settings = settings
        self.publisher = publisher
        self.run_stage = run_stage
        self.dedupe = dedupe
        self.on_undelivered = on_undelivered
        self._sleep = sleep

    async def deliver(self, records: Sequence[InRecord]) -> None:
        """Process and send one batch; returns only once every record's outcome is acknowledged."""
        try:
            results = await self.run_stage(records)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a stage bug: every ad becomes a replayable dead letter
            log.exception("%s: the stage raised for a batch of %d", self.stage.name, len(records))
            results = self.stage.fail_all(records, StageError(
                "internal_error", f"{type(exc).__name__}: {exc}", exception_type=type(exc).__name__))
        await self._publish_with_retries(results)

    async def deliver_or_drain(self, records: Sequence[InRecord]) -> None:
        """:meth:`deliver`, finishing the batch within ``shutdown_drain_s`` when the agent is cancelled."""
        batch = asyncio.ensure_future(self.deliver(records))
        try:
            await asyncio.shield(batch)
        except asyncio.CancelledError:
            if not batch.done():
                log.info("%s: stopping; delivering the %d ad(s) in flight first", self.stage.name, len(records))
                try:
                    await asyncio.wait_for(asyncio.shield(batch), self.settings.shutdown_drain_s)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    self.on_undelivered(f"{self.stage.name}: the batch in flight did not end within "
                                        f"{self.settings.shutdown_drain_s:.0f} s of the stop")
            raise

    async def _publish_with_retries(self, results: list[Result]) -> None:
        """Send, then send again what failed, with backoff, until ``publish_retry_deadline_s``."""
        deadline = time.monotonic() + self.settings.publish_retry_deadline_s
        delay = max(self.settings.retry_backoff_s, 0.05)
        pending: list[Result] = results
        while True:
            pending = await publish_results(pending, self.route, self.settings, self.publisher, self.dedupe)
            if not pending:
                return
            if time.monotonic() + delay > deadline:
                self.on_undelivered(f"{self.stage.name}: {len(pending)} outcome(s) could not be sent for "
                                    f"{self.settings.publish_retry_deadline_s:.0f} s")
                raise UndeliveredError(f"{len(pending)} outcome(s) not sent")  # when on_undelivered returns (tests)
            log.warning("%s: %d outcome(s) not sent; retrying in %.1f s", self.stage.name, len(pending), delay)
            await self._sleep(delay)
            delay = min(delay * 2, 5.0)
