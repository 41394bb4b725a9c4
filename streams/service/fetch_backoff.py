"""A short pause after an empty fetch, for brokers that answer empty fetches at once.

Kafka holds a fetch that finds no data for ``fetch.max.wait.ms`` (long polling), so an idle
consumer sends a few requests a second. The embedded broker (noida-db 0.2.3) ignores that wait
and answers at once, so aiokafka's fetcher and kafka-python's ``poll`` loop spin: an idle aiokafka
consumer sent ~5,600 fetches a second and used 84% of a core, which a busy worker takes from its
models. Pausing ``kafka_empty_fetch_backoff_ms`` after an empty answer brings that to ~5% (10 ms).
On Kafka the pause only follows a fetch that already waited, so it adds at most that much latency.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

_pause_s = 0.0
_installed = False


def install_empty_fetch_backoff(seconds: float) -> None:
    """Make every aiokafka consumer in this process pause ``seconds`` after a fetch that brought nothing.

    aiokafka has no option for this; the fetcher's per-request coroutine is wrapped once (aiokafka is
    pinned, and a test checks the wrapped method still exists). ``seconds`` of 0 turns the pause off.
    """
    global _pause_s, _installed
    _pause_s = max(seconds, 0.0)
    if _installed:
        return
    from aiokafka.consumer.fetcher import Fetcher

    fetch = Fetcher._proc_fetch_request

    async def fetch_then_pause_if_empty(self: Any, assignment: Any, node_id: int, request: Any) -> bool:
        brought_data = await fetch(self, assignment, node_id, request)
        if not brought_data and _pause_s > 0:
            try:
                await asyncio.sleep(_pause_s)
            except asyncio.CancelledError:  # closed or unassigned meanwhile: as the fetch itself would
                return False
        return brought_data

    Fetcher._proc_fetch_request = fetch_then_pause_if_empty
    _installed = True


def poll_pausing(consumer: Any, timeout_s: float, pause_s: float) -> dict:
    """kafka-python ``poll`` that returns what arrived within ``timeout_s``, pausing after each empty poll."""
    if pause_s <= 0:
        return consumer.poll(timeout_ms=int(timeout_s * 1000))
    deadline = time.monotonic() + timeout_s
    while True:
        batches = consumer.poll(timeout_ms=0)
        if batches or time.monotonic() >= deadline:
            return batches
        time.sleep(min(pause_s, max(deadline - time.monotonic(), 0.0)))
