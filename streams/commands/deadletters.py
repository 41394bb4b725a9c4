"""``adsent deadletters list|replay``: inspect and replay failed ads."""

from __future__ import annotations

import collections

import typer

from schemas.cli_support import fail, settings_of

app = typer.Typer(help="Dead letters: every ad that could not be processed, with stage, code and message.",
                  no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=1, help="Show at most this many (the oldest first)."),
) -> None:
    """Print dead letters and a count per stage and code; parked ones (not replayed again) are marked."""
    from streams.ops.deadletters import is_parked, read_dead_letters

    settings = settings_of(ctx)
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    parked = 0
    for shown, (_, letter) in enumerate(read_dead_letters(settings)):
        counts[(letter.stage, letter.code)] += 1
        parked += is_parked(letter, settings)
        if shown < limit:
            mark = "parked" if is_parked(letter, settings) else f"{letter.replays}x"
            typer.echo(f"{letter.failed_at:%Y-%m-%d %H:%M:%S}  {letter.ad_id or '?':<28} {letter.stage:<9} "
                       f"{letter.code:<24} {mark:<7} {letter.message[:70]}")
    for (stage, code), count in counts.most_common():
        typer.echo(f"{count:>6}  {stage}/{code}")
    if parked:
        typer.echo(f"{parked:>6}  parked: replayed {settings.deadletter_max_replays} times "
                   "(ADSENT_DEADLETTER_MAX_REPLAYS), not replayed again")


@app.command("replay")
def replay_command(
    ctx: typer.Context,
    code: list[str] = typer.Option(None, help="Only these error codes (repeatable)."),
    stage: list[str] = typer.Option(None, help="Only dead letters of these stages (repeatable)."),
    ad_id: list[str] = typer.Option(None, help="Only these ad ids (repeatable)."),
    dry_run: bool = typer.Option(False, help="Say what would be replayed; send nothing, remember nothing."),
) -> None:
    """Send dead letters back to the input topic of the stage that failed them.

    Each dead letter is replayed at most once, with or without filters (a consumer group remembers
    which were handled); letters a filter does not select stay for a later run. An ad replayed
    ADSENT_DEADLETTER_MAX_REPLAYS times to a stage is parked: listed, never replayed again.
    """
    from streams.ops.deadletters import replay
    from streams.ops.replay_ledger import ReplayMemoryFullError

    def accept(letter) -> bool:
        return ((not code or letter.code in code) and (not stage or letter.stage in stage)
                and (not ad_id or letter.ad_id in ad_id))

    filtered = bool(code or stage or ad_id)

    def show(letter, topic: str) -> None:
        typer.echo(f"{'would replay' if dry_run else 'replayed'} {letter.ad_id or '?'} ({letter.stage}/{letter.code}) -> {topic}")

    def show_parked(letter) -> None:
        typer.echo(f"parked {letter.ad_id or '?'} ({letter.stage}/{letter.code}): replayed {letter.replays} times")

    try:
        summary = replay(settings_of(ctx), accept if filtered else None, dry_run=dry_run, on_replay=show,
                         on_parked=show_parked)
    except ReplayMemoryFullError as exc:
        fail(f"replay stopped: {exc}")
    typer.echo(f"{summary.replayed} {'to replay' if dry_run else 'replayed'}, {summary.skipped} not selected, "
               f"{summary.without_payload} without payload, {summary.parked} parked, "
               f"{summary.handled_before} handled by an earlier replay")
