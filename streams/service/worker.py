"""Run a worker: broker and topics ready, models warm, health server up, then the Faust agents."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from schemas.pipeline import in_order
from schemas.settings import Settings
from streams.service.health import Health, HealthServer
from streams.service.delivery import DrainWatchdog, Publisher
from streams.service.metrics import Metrics
from streams.service.stages import Stage

log = logging.getLogger(__name__)


def build_stages(settings: Settings, names: Sequence[str], metrics: Metrics) -> dict:
    """Instantiate the requested stages; models load here, once, and are warmed up."""
    from streams.service.stages import STAGES, ClassifyStage, FeaturesStage

    stages: dict = {}
    shared_model = None
    # classify first: a features stage in the same worker shares the served model's encoder
    for name in sorted(in_order(names), key=lambda stage: stage != "classify"):
        if name == "classify":
            stage = ClassifyStage(settings, metrics)
            shared_model = stage.model
        elif name == "features":
            stage = FeaturesStage(settings, metrics, extractor=_extractor(settings, shared_model))
        else:
            stage = STAGES[name](settings, metrics)
        stages[name] = stage
    stages = {name: stages[name] for name in in_order(stages)}
    for name, stage in stages.items():
        log.info("warming up %s", name)
        stage.warm_up()
    return stages


def _extractor(settings: Settings, model: object | None) -> object | None:
    """In a worker that also classifies, the features stage shares the served model's encoder."""
    return getattr(model, "feature_extractor", None) if model is not None else None


def run_worker(settings: Settings, names: Sequence[str]) -> None:
    """Block running the worker until SIGTERM/SIGINT; then deliver the batch in flight and leave the group."""
    from streams.service.connect import prepare_cluster

    prepare_cluster(settings)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    metrics = Metrics()
    health = Health(metrics)
    server = HealthServer(settings.metrics_host, settings.metrics_port, health,
                          socket_timeout_s=settings.metrics_socket_timeout_s).start()
    try:
        ordered = [name for name in ("classify", "features", "describe") if name in names]  # model first: shared
        stages = build_stages(settings, ordered, metrics)
        _set_model_info(metrics, settings, stages)
        serve(settings, stages, metrics, health)
    finally:
        server.stop()


def serve(settings: Settings, stages: Mapping[str, Stage], metrics: Metrics, health: Health,
          publisher: Callable[[Any], Publisher] | None = None) -> None:
    """Run the Faust agents of these warm stages until SIGTERM/SIGINT (the cluster is prepared).

    ``publisher`` builds the sender from the app (default: the app's own producer).
    """
    from streams.service.app import create_app

    health.models_warm = True
    app = create_app(settings, stages, metrics, health, publisher_factory=publisher)
    if settings.uses_embedded_broker and settings.kafka_dead_member_sweep:
        from streams.service.membership import DeadMemberSweeper

        sweeper = DeadMemberSweeper(settings, app.conf.id)  # members a killed worker left behind
        sweeper.sweep()
        sweeper.close()
    log.info("worker for %s (group %s)", ",".join(stages), app.conf.id)
    watchdog = DrainWatchdog(health.batches_in_flight, settings.shutdown_drain_s)
    worker = _draining_worker_class()(app, watchdog, loglevel=settings.log_level, quiet=True, override_logging=False)
    worker.execute_from_commandline()


def _draining_worker_class() -> type:
    """``faust.Worker`` that starts the drain deadline when SIGTERM or SIGINT asks it to stop."""
    import faust

    class DrainingWorker(faust.Worker):
        def __init__(self, app: Any, watchdog: DrainWatchdog, **kwargs: Any) -> None:
            super().__init__(app, **kwargs)
            self.drain_watchdog = watchdog

        def _on_sigterm(self) -> None:
            self.drain_watchdog.stop_requested()
            super()._on_sigterm()

        def _on_sigint(self) -> None:
            self.drain_watchdog.stop_requested()
            super()._on_sigint()

    return DrainingWorker


def _set_model_info(metrics: Metrics, settings: Settings, stages: dict) -> None:
    from streams.service.app import on_gpu

    info = {"device": "cuda" if on_gpu(settings) else "cpu",
            "stages": ",".join(stages)}
    classify = stages.get("classify")
    if classify is not None:
        model = classify.model
        info.update({"version": model.model_version, "text_encoder": model.config.text.encoder,
                     "vision_backbone": model.config.vision.backbone})
    metrics.model_info.info(info)
