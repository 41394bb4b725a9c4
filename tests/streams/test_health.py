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
