"""Liveness and readiness as the worker reports them."""

from __future__ import annotations

from streams.service.health import Health
from streams.service.metrics import Metrics


def test_ready_gauge_follows_the_broker_probe() -> None:
    metrics = Metrics()
    health = Health(metrics, stall_after_s=0.0)
    assert health.live()[0]  # live while models load, before the loop ticks
    health.models_warm = True
    health.tick()
    health.stall_after_s = 30.0
    health.broker_checked(True)
    assert health.ready()[0] and metrics.registry.get_sample_value("adsent_worker_ready") == 1
    health.stall_after_s = 0.0  # the last good answer is now too old
    health.broker_checked(False)
    assert not health.ready()[0] and metrics.registry.get_sample_value("adsent_worker_ready") == 0


def test_a_stage_stuck_in_one_batch_past_its_deadline_fails_liveness() -> None:
    now = [100.0]
    health = Health(Metrics(), clock=lambda: now[0])
    health.tick()
    with health.batch("describe", deadline_s=60):
        now[0] += 59
        health.tick()
        assert health.live()[0] and health.batches_in_flight() == ["describe"]
        now[0] += 2
        health.tick()  # the event loop still ticks: only the stage is stuck
        ok, why = health.live()
        assert not ok and "describe" in why
    assert health.live()[0] and health.batches_in_flight() == []


def test_a_client_that_sends_nothing_is_disconnected() -> None:
    import socket

    from streams.service.health import HealthServer

    server = HealthServer("127.0.0.1", 0, Health(Metrics()), socket_timeout_s=0.3).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
            assert idle.recv(1) == b""  # the server closed it after its timeout (else: socket.timeout here)
    finally:
        server.stop()
