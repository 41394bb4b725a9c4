"""Run a worker: broker and topics ready, models warm, health server up, then the Faust agents."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from schemas.pipeline import in_order
from schemas.settings import Settings
from streams.service.health import Health, HealthServer
from streams.service.metrics import Metrics

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
    """Block running the worker until SIGTERM/SIGINT; then finish or release the in-flight batch."""
    import faust

    from streams.service.app import create_app
    from streams.service.connect import prepare_cluster

    servers, _, _ = prepare_cluster(settings)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    metrics = Metrics()
    health = Health(metrics)
    server = HealthServer(settings.metrics_host, settings.metrics_port, health,
                          socket_timeout_s=settings.metrics_socket_timeout_s).start()
    ordered = [name for name in ("classify", "features", "describe") if name in names]  # model first: shared
    stages = build_stages(settings, ordered, metrics)
    _set_model_info(metrics, settings, stages)
    health.models_warm = True
    app = create_app(settings, stages, metrics, health)
    if settings.uses_embedded_broker and settings.kafka_dead_member_sweep:
        from streams.service.membership import DeadMemberSweeper

        sweeper = DeadMemberSweeper(settings, app.conf.id)  # members a killed worker left behind
        sweeper.sweep()
        sweeper.close()
    log.info("worker for %s on %s (group %s), metrics on :%d", ",".join(names), servers, app.conf.id, server.port)
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True, override_logging=False)
    try:
        worker.execute_from_commandline()
    finally:
        server.stop()


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
