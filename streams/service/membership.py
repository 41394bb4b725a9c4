"""Consumer-group membership on the embedded broker, which never expires a member.

Kafka removes a member that stops heartbeating after ``session.timeout.ms`` and hands its
partitions to the others. The embedded broker (noida-db 0.2.3) does not: a worker that died without
leaving the group (SIGKILL, OOM, a broker restart under it) stays a member forever, the group's
next rebalance waits for it, and its partitions are never consumed again. Two things stand in
for the session timeout there, on one host (the embedded broker listens on loopback only):

- every worker's Kafka client id names its process and this run of it (``<client id>.pid<N>.<run>``;
  a worker that restarts itself in place keeps its pid, see :mod:`streams.service.broker_watch`),
  and a :class:`DeadMemberSweeper` removes members whose process is gone, or that an earlier run of
  this very process left behind (LeaveGroup on their behalf), when a worker starts and every few
  seconds after;
- a SyncGroup answer with an empty assignment (the broker sends one to a member that joined while
  the leader was assigning) makes aiokafka's coordinator task die on decoding it; it is treated as
  "no assignment yet, join again" instead (:func:`install_empty_assignment_rejoin`).

With a Kafka cluster the client id stays the configured one and nothing is swept; the rejoin on an
empty assignment is installed everywhere (Kafka can send one too, and joining again is always safe).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from typing import Any

from schemas.settings import Settings
from streams.service.kafka_config import client_options

log = logging.getLogger(__name__)

_MEMBER_SUFFIX = re.compile(r"\.pid(\d+)\.([0-9a-f]+)$")
RUN_TOKEN = secrets.token_hex(4)  # this run of this process (a new one after an in-place restart)
_installed = False


def member_client_id(settings: Settings, pid: int | None = None, run: str = RUN_TOKEN) -> str:
    """The client id a worker's consumer and producer use: with the embedded broker, it names the
    process and this run of it."""
    if not settings.uses_embedded_broker:
        return settings.kafka_client_id
    return f"{settings.kafka_client_id}.pid{pid if pid is not None else os.getpid()}.{run}"


def pid_of(client_id: str) -> tuple[int, str] | None:
    """(pid, run) of the worker a member's client id names; None for clients that are not adsent workers."""
    match = _MEMBER_SUFFIX.search(client_id or "")
    return (int(match.group(1)), match.group(2)) if match else None


def member_is_dead(client_id: str) -> bool:
    """Whether the worker behind a member is gone: its process died, or it is an earlier run of this process."""
    named = pid_of(client_id)
    if named is None:
        return False
    pid, run = named
    if pid == os.getpid():
        return run != RUN_TOKEN
    return not process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class DeadMemberSweeper:
    """Removes the members of one group whose worker process has died (embedded broker only)."""

    def __init__(self, settings: Settings, group: str) -> None:
        self.settings = settings
        self.group = group
        self._admin: Any = None
        # kafka-python warns on every describe that it cannot parse Faust's member metadata (not needed here)
        logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)

    def sweep(self) -> list[str]:
        """Remove dead members; returns their member ids. Broker errors are logged, never raised."""
        from kafka.admin import MemberToRemove
        from kafka.errors import KafkaError

        try:
            if self._admin is None:
                from kafka import KafkaAdminClient

                self._admin = KafkaAdminClient(**client_options(self.settings), request_timeout_ms=5000)
            described = self._admin.describe_groups([self.group]).get(self.group) or {}
            dead = [member["member_id"] for member in described.get("members", [])
                    if member_is_dead(member.get("client_id", ""))]
            if dead:
                self._admin.remove_group_members(self.group, [MemberToRemove(member_id=m) for m in dead])
                log.warning("removed %d member(s) of group %s whose worker process is gone: %s",
                            len(dead), self.group, ", ".join(dead))
            return dead
        except (KafkaError, OSError) as exc:
            log.info("could not check group %s for dead members: %s", self.group, exc)
            self.close()
            return []

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
        self._admin = None


def install_empty_assignment_rejoin() -> None:
    """Make aiokafka join again on an empty SyncGroup assignment instead of crashing its coordinator.

    aiokafka decodes the assignment bytes unconditionally; ``b""`` raises ``ValueError`` inside the
    coordinator task, which then stops for good while the worker looks healthy. The wrapped join
    returns "no assignment" for it, which aiokafka answers by waiting its backoff and joining again.
    """
    global _installed
    if _installed:
        return
    from aiokafka.consumer.group_coordinator import CoordinatorGroupRebalance

    join = CoordinatorGroupRebalance.perform_group_join

    async def join_again_on_empty_assignment(self: Any) -> Any:
        result = await join(self)
        if result is not None and not result[1]:
            log.info("group %s: the broker sent an empty assignment; joining again", self.group_id)
            self._coordinator.request_rejoin()
            return None
        return result

    CoordinatorGroupRebalance.perform_group_join = join_again_on_empty_assignment
    _installed = True
