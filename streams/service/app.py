"""The Faust app: topics, one thin agent per stage, the result de-duplication table, lag metrics.

Agents only move bytes: take a batch, run the stage's plain function in an executor (so the event
loop keeps heartbeating through rebalances), send what it returns and wait for the broker's
acknowledgements, and only then let Faust acknowledge the batch (:mod:`streams.service.delivery`
says how failures and SIGTERM keep to that). An offset is committed only after the output or the
dead letter of its message was written (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust

from schemas import SourceRef
from schemas.pipeline import PIPELINE, in_order
from schemas.settings import Settings
from streams.service.broker_watch import BrokerIncarnation, BrokerRestartGuard
from streams.service.delivery import BatchDelivery, Deduplicator, Publisher, Route, batch_deadline_s
from streams.service.faust_acks import install_ack_only_tracked
from streams.service.fetch_backoff import install_empty_fetch_backoff
from streams.service.health import Health
from streams.service.letters import replays_of
from streams.service.kafka_config import bootstrap_servers, client_options, ssl_context
from streams.service.membership import DeadMemberSweeper, install_empty_assignment_rejoin, member_client_id
from streams.service.metrics import Metrics
from streams.service.stages import InRecord, Stage

log = logging.getLogger(__name__)

LAG_INTERVAL_S = 5.0
TICK_INTERVAL_S = 1.0
BROKER_CHECK_INTERVAL_S = 0.5


def routes(settings: Settings, on_gpu: bool = False) -> dict[str, Route]:
    """Each stage's input and output topics and its batch size on the worker's device."""
    return {spec.name: Route(*spec.topics(settings), spec.max_batch(settings, on_gpu), spec.max_wait_s(settings))
            for spec in PIPELINE}


def on_gpu(settings: Settings) -> bool:
    """Whether this worker's models run on CUDA."""
    if settings.device == "cpu":
        return False
    import torch

    return torch.cuda.is_available()


def app_id(settings: Settings, stages: Sequence[str]) -> str:
    """The consumer group: one per set of stages, so per-stage workers of one stage share partitions."""
    ordered = in_order(stages)
    return f"{settings.kafka_consumer_group}-{'-'.join(ordered)}"


class FaustPublisher:
    """Sends through the app's producer and waits for the broker's acknowledgement."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self._topics: dict[str, Any] = {}

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        if topic not in self._topics:
            self._topics[topic] = self.app.topic(topic, key_serializer="raw", value_serializer="raw")
        future = await self._topics[topic].send(key=key, value=value)
        await future


def records_of(events: Sequence[Any]) -> list[InRecord]:
    """Faust events -> plain records (raw value, key and where they came from)."""
    records = []
    for event in events:
        message = event.message
        value = message.value if isinstance(message.value, (bytes, bytearray)) else bytes(message.value or b"")
        records.append(InRecord(value=bytes(value), key=message.key,
                                source=SourceRef(topic=message.topic, partition=message.partition,
                                                 offset=max(message.offset, 0)),
                                replays=replays_of(message.headers)))
    return records


def create_app(settings: Settings, stages: Mapping[str, Stage], metrics: Metrics, health: Health,
               publisher: Publisher | None = None,
               publisher_factory: Callable[[faust.App], Publisher] | None = None) -> faust.App:
    """Build the Faust app with one agent per given stage; outputs go through ``publisher``, or the
    one ``publisher_factory`` builds from the app, or else the app's own producer."""
    names = in_order(stages)
    servers = [f"kafka://{server.strip()}" for server in bootstrap_servers(settings).split(",")]
    if settings.empty_fetch_backoff_s > 0:  # only where a broker answers empty fetches at once (the embedded one)
        install_empty_fetch_backoff(settings.empty_fetch_backoff_s)
    install_empty_assignment_rejoin()
    install_ack_only_tracked()
    app = faust.App(
        app_id(settings, names),
        broker=servers,
        broker_client_id=member_client_id(settings),
        broker_credentials=_credentials(settings),
        key_serializer="raw",
        value_serializer="raw",
        processing_guarantee=settings.processing_guarantee,
        producer_acks=-1,
        producer_max_request_size=settings.kafka_max_message_bytes,
        consumer_max_fetch_size=settings.kafka_max_message_bytes,
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=settings.kafka_replication_factor,
        topic_partitions=settings.partitions_features,
        store="memory://",
        datadir=str(settings.state_dir / "faust"),
        web_enabled=False,
    )
    sender = publisher or (publisher_factory or FaustPublisher)(app)
    dedupe = None
    if "classify" in names and settings.dedupe_results:
        table = app.Table("emitted", default=None, partitions=settings.partitions_features, key_type=bytes,
                          value_type=bytes, use_partitioner=True,
                          help="ad_id -> digest of image and copy, and when its AdSentiment was delivered")
        dedupe = Deduplicator(table, metrics, "classify", settings.dedupe_window_s)
    stage_routes = routes(settings, on_gpu(settings))
    for name in names:
        route = stage_routes[name]
        _add_agent(app, name, stages[name], route, settings, sender, health, dedupe if name == "classify" else None)
    _add_timers(app, settings, health, metrics, [stage_routes[name].source for name in names], dedupe)
    return app


def _add_agent(app: faust.App, name: str, stage: Stage, route: Route, settings: Settings,
               publisher: Publisher, health: Health, dedupe: Deduplicator | None) -> None:
    topic = app.topic(route.source, key_serializer="raw", value_serializer="raw")
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"adsent-{name}")
    deadline_s = batch_deadline_s(settings, stage, route.max_batch)

    async def run_stage(records: list[InRecord]) -> list:
        return await asyncio.get_running_loop().run_in_executor(executor, stage.run, records)

    delivery = BatchDelivery(stage, route, settings, publisher, run_stage, dedupe)

    async def agent(stream: faust.StreamT) -> None:
        async for events in stream.take_events(route.max_batch, within=route.max_wait_s):
            with health.batch(name, deadline_s):
                await delivery.deliver_or_drain(records_of(events))

    agent.__name__ = f"{name}_agent"
    app.agent(topic, name=f"adsent.{name}")(agent)


def _add_timers(app: faust.App, settings: Settings, health: Health, metrics: Metrics, sources: list[str],
                dedupe: Deduplicator | None) -> None:
    @app.timer(TICK_INTERVAL_S)
    async def tick() -> None:
        health.tick()

    if dedupe is not None:
        @app.timer(min(settings.dedupe_window_s / 10, 3600.0))
        async def expire_dedupe() -> None:
            removed = dedupe.expire()
            if removed:
                log.info("de-duplication table: %d entries older than %.0f s removed", removed, dedupe.window_s)

    if settings.uses_embedded_broker:
        _watch_the_embedded_broker(app, BrokerRestartGuard(BrokerIncarnation.of_embedded_broker(settings)))
    if settings.uses_embedded_broker and settings.kafka_dead_member_sweep:
        sweeper = DeadMemberSweeper(settings, app.conf.id)

        @app.timer(LAG_INTERVAL_S)
        async def sweep_dead_members() -> None:
            await asyncio.get_running_loop().run_in_executor(None, sweeper.sweep)

    probe = BrokerProbe(settings)
    reported: set[tuple[str, str]] = set()  # lag series this worker exports: only partitions it holds now

    @app.timer(LAG_INTERVAL_S)
    async def measure_lag() -> None:
        loop = asyncio.get_running_loop()
        health.broker_checked(await loop.run_in_executor(None, probe.answers))
        consumer = app.consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic in sources]
        held = {(tp.topic, str(tp.partition)) for tp in assigned}
        for labels in reported - held:  # revoked in a rebalance: another worker reports it now
            metrics.consumer_lag.remove(*labels)
        reported.intersection_update(held)
        if not assigned:
            return
        highwaters = await consumer.highwaters(*assigned)
        for tp in assigned:
            position = await consumer.position(tp)
            if position is not None and tp in highwaters:
                metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(highwaters[tp] - position, 0))
                reported.add((tp.topic, str(tp.partition)))


def _watch_the_embedded_broker(app: faust.App, guard: BrokerRestartGuard) -> None:
    """Restart the worker once the embedded broker restarted (see :mod:`streams.service.broker_watch`):
    checked often, and before the partitions of a new assignment are consumed."""
    @app.timer(BROKER_CHECK_INTERVAL_S)
    async def check_broker_incarnation() -> None:
        guard.check()

    @app.on_partitions_assigned.connect
    async def check_before_consuming(sender: Any, assigned: Any, **kwargs: Any) -> None:
        guard.check()


class BrokerProbe:
    """Asks the cluster for its topic list: does the broker answer Kafka requests right now?"""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._admin: Any = None

    def answers(self) -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(**client_options(self.settings), request_timeout_ms=3000)
            self._admin.list_topics()
            return True
        except (KafkaError, OSError) as exc:
            log.warning("the broker does not answer: %s", exc)
            if self._admin is not None:
                self._admin.close()
            self._admin = None
            return False


def _credentials(settings: Settings) -> Any:
    if settings.kafka_security_protocol.startswith("SASL"):
        password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
        return faust.SASLCredentials(username=settings.kafka_sasl_username, password=password,
                                     mechanism=settings.kafka_sasl_mechanism, ssl_context=ssl_context(settings))
    return ssl_context(settings)
