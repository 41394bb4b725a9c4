"""A real worker on the real broker, with a model-free stage and faults on demand, for the chaos tests.

``python -m tests.streams.fault_worker`` reads its settings from ``ADSENT_*`` and its faults from
``FAULT_*``: ``FAULT_FAILED_SENDS=N`` makes the first N sends to the stage's output topic fail,
``FAULT_ALWAYS_FAIL=1`` makes every one fail, and ``FAULT_BATCH_SECONDS=S`` makes each batch take S
seconds, so that a signal lands in the middle of one. The stage is the ``describe`` stage of
:class:`tests.streams.conftest.UppercaseStage`; everything else (app, agents, delivery, health) is
the product's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from kafka.errors import KafkaTimeoutError

from schemas.logs import configure_logging
from schemas.settings import load_settings
from streams.service.app import FaustPublisher
from streams.service.connect import prepare_cluster
from streams.service.health import Health, HealthServer
from streams.service.metrics import Metrics
from streams.service.worker import serve
from tests.streams.conftest import UppercaseStage


class SlowUppercaseStage(UppercaseStage):
    def __init__(self, *args: object, batch_seconds: float = 0.0) -> None:
        super().__init__(*args)
        self.batch_seconds = batch_seconds

    def infer(self, events: Sequence, prepared: Sequence[str]) -> list[str]:
        time.sleep(self.batch_seconds)
        return super().infer(events, prepared)


class FaultyPublisher(FaustPublisher):
    """The app's producer, except that sends to ``topic`` fail while the fault plan says so."""

    def __init__(self, app: object, topic: str, failures: int, always: bool) -> None:
        super().__init__(app)
        self.topic = topic
        self.failures_left = failures
        self.always = always

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        if topic == self.topic and (self.always or self.failures_left > 0):
            self.failures_left -= 1
            raise KafkaTimeoutError(f"injected send failure to {topic}")
        await super().send(topic, key, value)


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    prepare_cluster(settings)
    metrics = Metrics()
    health = Health(metrics)
    server = HealthServer(settings.metrics_host, settings.metrics_port, health).start()
    stage = SlowUppercaseStage(settings, metrics, batch_seconds=float(os.environ.get("FAULT_BATCH_SECONDS", "0")))
    failures = int(os.environ.get("FAULT_FAILED_SENDS", "0"))
    always = os.environ.get("FAULT_ALWAYS_FAIL") == "1"
    try:
        serve(settings, {"describe": stage}, metrics, health,
              publisher=lambda app: FaultyPublisher(app, settings.topic_described, failures, always))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
