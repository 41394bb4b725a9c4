"""``adsent worker``: run one, two or all three stages in this process."""

from __future__ import annotations

import typer

from schemas.cli_support import fail, settings_of
from schemas.pipeline import ALL_STAGES, STAGE_NAMES


def worker_command(
    ctx: typer.Context,
    stages: str = typer.Option(ALL_STAGES, help="Comma-separated stages to run here. All three (the default) in "
                               "one process, or one per process to scale each stage on its own."),
    metrics_port: int = typer.Option(None, help="Port of /metrics, /healthz and /readyz (default: ADSENT_METRICS_PORT)."),
) -> None:
    """Consume, process and produce until SIGTERM; workers of the same stages share partitions."""
    from model.describe.parity import DescribeMismatchError
    from model.resolve import NoModelError
    from streams.devbroker import BrokerError
    from streams.service.topics import TopicsMissingError
    from streams.service.worker import run_worker

    settings = settings_of(ctx)
    names = [name.strip() for name in stages.split(",") if name.strip()]
    unknown = sorted(set(names) - set(STAGE_NAMES))
    if unknown or not names:
        fail(f"unknown stage(s) {', '.join(unknown) or '(none)'}; choose from {ALL_STAGES}", code=2)
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    try:
        run_worker(settings, names)
    except (BrokerError, NoModelError, DescribeMismatchError, TopicsMissingError) as exc:
        fail(str(exc))
