"""Acknowledge only the messages an agent was handed.

A Faust stream drops a message fetched before a rebalance or while flow control is suspended
(as it is from the moment a worker begins to stop) and acknowledges it anyway, "so that the lag
does not grow". An acknowledged offset is committed, so an ad dropped that way on a SIGTERM never
reaches a stage again: a worker restarted after a SIGTERM finished 23 of 24 ads, the missing one
written to ``ads.described`` by the stopping worker and skipped by its features agent. Messages a
stream hands to an agent are marked ``tracked`` first; the others are now left unacknowledged, so
their offsets stay uncommitted and the next owner of the partition reads them again (after a
rebalance Faust seeks every partition to its committed offset anyway).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_installed = False


def ack_only_tracked(ack: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """Wrap ``Consumer.ack`` so that a message no agent was handed is not acknowledged."""

    @functools.wraps(ack)
    def ack_if_tracked(consumer: Any, message: Any) -> bool:
        if not getattr(message, "tracked", False):
            return False
        return ack(consumer, message)

    return ack_if_tracked


def install_ack_only_tracked() -> None:
    """Patch Faust's consumer once per process (faust-streaming is pinned; a test checks the method)."""
    global _installed
    if _installed:
        return
    from faust.transport.consumer import Consumer

    Consumer.ack = ack_only_tracked(Consumer.ack)  # type: ignore[method-assign]
    _installed = True
