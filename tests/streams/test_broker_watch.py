"""A worker restarts itself when the embedded broker restarted under it."""

from __future__ import annotations

from streams.service.broker_watch import BrokerIncarnation, BrokerRestartGuard


def incarnation(pids: list[int | None]) -> BrokerIncarnation:
    """An incarnation whose broker pid is each of ``pids`` in turn (the first at the worker's start)."""
    return BrokerIncarnation(lambda: pids.pop(0))


def test_the_worker_restarts_once_another_broker_process_runs() -> None:
    restarts: list[bool] = []
    guard = BrokerRestartGuard(incarnation([100, 100, None, 200]), restart=lambda: restarts.append(True))
    guard.check()  # same broker
    guard.check()  # broker down: wait for it
    assert restarts == []
    guard.check()  # a new broker process
    assert restarts == [True]


def test_a_worker_started_without_a_broker_it_knows_never_restarts() -> None:
    restarts: list[bool] = []
    BrokerRestartGuard(incarnation([None, 200]), restart=lambda: restarts.append(True)).check()
    assert restarts == []
