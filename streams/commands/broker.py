"""``adsent broker up|down|status|reset``: the embedded Kafka-protocol broker."""

from __future__ import annotations

import typer

from schemas.cli_support import fail, settings_of
from schemas.settings import Settings

app = typer.Typer(help="The embedded Kafka-protocol broker (noida-db on loopback), for development and the demo.",
                  no_args_is_help=True)


def _refuse_when_external(settings: Settings) -> None:
    if not settings.uses_embedded_broker:
        fail(f"ADSENT_KAFKA_BOOTSTRAP_SERVERS is set ({settings.kafka_bootstrap_servers}); "
             "the embedded broker is not used. Unset it to use the embedded broker.", code=2)


@app.command()
def up(ctx: typer.Context) -> None:
    """Start the broker in the background, wait until it answers, create the topics."""
    from streams.devbroker import BrokerError, EmbeddedBroker
    from streams.service.topics import ensure_topics

    settings = settings_of(ctx)
    _refuse_when_external(settings)
    broker = EmbeddedBroker.from_settings(settings)
    try:
        status = broker.up()
    except BrokerError as exc:
        fail(str(exc))
    typer.echo(f"broker up at {status.address} (pid {status.pid}, data {status.data_dir})")
    for topic, outcome in ensure_topics(settings).items():
        typer.echo(f"  topic {topic}: {outcome} ({settings.topic_partitions()[topic]} partitions)")


@app.command()
def down(ctx: typer.Context) -> None:
    """Stop the broker (its data is kept in the state directory)."""
    from streams.devbroker import EmbeddedBroker

    settings = settings_of(ctx)
    _refuse_when_external(settings)
    stopped = EmbeddedBroker.from_settings(settings).down()
    typer.echo("broker stopped" if stopped else "broker was not running")


@app.command()
def status(ctx: typer.Context) -> None:
    """Say whether the broker runs and answers; exit 1 when it does not."""
    from streams.devbroker import EmbeddedBroker

    settings = settings_of(ctx)
    _refuse_when_external(settings)
    state = EmbeddedBroker.from_settings(settings).status()
    if state.running:
        typer.echo(f"running: pid {state.pid} at {state.address}, answering={state.answering}, data {state.data_dir}")
    else:
        typer.echo(f"not running (would listen on {state.address}, data {state.data_dir})")
        raise typer.Exit(1)


@app.command()
def reset(ctx: typer.Context,
          yes: bool = typer.Option(False, "--yes", "-y", help="Delete without asking.")) -> None:
    """Delete the stopped broker's data: every topic, message and committed offset.

    The embedded broker keeps everything it was sent, and gets slower as it fills; reset it between
    long runs (then `adsent broker up` creates the topics again).
    """
    from streams.devbroker import BrokerError, EmbeddedBroker

    settings = settings_of(ctx)
    _refuse_when_external(settings)
    broker = EmbeddedBroker.from_settings(settings)
    if not yes and not typer.confirm(f"Delete {broker.data_dir}?"):
        raise typer.Exit(1)
    try:
        deleted = broker.reset()
    except BrokerError as exc:
        fail(str(exc))
    typer.echo(f"deleted {broker.data_dir}" if deleted else "the broker had no data")
