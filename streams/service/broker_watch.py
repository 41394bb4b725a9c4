"""Restart the worker when the embedded broker restarted under it.

The embedded broker keeps its data across a SIGTERM, but a SIGKILL loses the writes of its last
fraction of a second, acknowledged ones included: outputs, committed offsets, table changelogs.
Offsets are then handed out again, so a worker that carried on from its in-memory positions would
skip the re-used ones, and its de-duplication table would remember results the broker no longer
has. A worker that sees a new broker process (its pid file changes) therefore replaces itself
with a fresh copy (``exec``, same pid, same command line) before it commits anything to the new
broker: the copy starts from what the broker kept, and every ad whose outcome was lost is read
and processed again. With a Kafka cluster, where acknowledged writes survive a broker's death,
none of this runs.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from schemas.settings import Settings

log = logging.getLogger(__name__)


class BrokerIncarnation:
    """Which embedded-broker process this worker started against (its pid changes on a restart)."""

    def __init__(self, current_pid: Callable[[], int | None]) -> None:
        self.current_pid = current_pid
        self.started_with = current_pid()

    @classmethod
    def of_embedded_broker(cls, settings: Settings) -> "BrokerIncarnation":
        from streams.devbroker import EmbeddedBroker

        return cls(EmbeddedBroker.from_settings(settings).pid)

    def replaced(self) -> bool:
        """True once another broker process runs than the one this worker started against."""
        now = self.current_pid()
        return self.started_with is not None and now is not None and now != self.started_with


def restart_this_process() -> None:
    """Replace this process with a fresh run of the same command (nothing is committed on the way)."""
    log.warning("the embedded broker restarted under this worker; starting afresh from what it kept")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


class BrokerRestartGuard:
    """Checks the broker's incarnation and restarts the worker once it changed."""

    def __init__(self, incarnation: BrokerIncarnation, restart: Callable[[], None] = restart_this_process) -> None:
        self.incarnation = incarnation
        self.restart = restart

    def check(self) -> None:
        if self.incarnation.replaced():
            self.restart()
