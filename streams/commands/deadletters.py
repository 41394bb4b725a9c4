"""``adsent deadletters list|replay``: inspect and replay failed ads."""

from __future__ import annotations

import collections

import typer

from schemas.cli_support import settings_of

app = typer.Typer(help="Dead letters: every ad that could not be processed, with stage, code and message.",
                  no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=1, help="Show at most this many (the oldest first)."),
) -> None:
    """Print dead letters and a count per stage and code."""
    from streams.ops.deadletters import read_dead_letters

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for shown, (_, letter) in enumerate(read_dead_letters(settings_of(ctx))):
        counts[(letter.stage, letter.code)] += 1
        if shown < limit:
            typer.echo(f"{letter.failed_at:%Y-%m-%d %H:%M:%S}  {letter.ad_id or '?':<28} {letter.stage:<9} "
                       f"{letter.code:<24} {letter.message[:70]}")
    for (stage, code), count in counts.most_common():
        typer.echo(f"{count:>6}  {stage}/{code}")


@app.command("replay")
def replay_command(
    ctx: typer.Context,
    code: list[str] = typer.Option(None, help="Only these error codes (repeatable)."),
    stage: list[str] = typer.Option(None, help="Only dead letters of these stages (repeatable)."),
    ad_id: list[str] = typer.Option(None, help="Only these ad ids (repeatable)."),
    dry_run: bool = typer.Option(False, help="Say what would be replayed; send nothing, remember nothing."),
) -> None:
    """Send dead letters back to the input topic of the stage that failed them.

    Without filters, each dead letter is replayed once (a consumer group remembers how far replay
    got). With filters, every matching one is replayed and nothing is remembered.
    """
    from streams.ops.deadletters import replay

    def accept(letter) -> bool:
        return ((not code or letter.code in code) and (not stage or letter.stage in stage)
                and (not ad_id or letter.ad_id in ad_id))

    filtered = bool(code or stage or ad_id)

    def show(letter, topic: str) -> None:
        typer.echo(f"{'would replay' if dry_run else 'replayed'} {letter.ad_id or '?'} ({letter.stage}/{letter.code}) -> {topic}")

    summary = replay(settings_of(ctx), accept if filtered else None, dry_run=dry_run, on_replay=show)
    typer.echo(f"{summary.replayed} {'to replay' if dry_run else 'replayed'}, {summary.skipped} not selected, "
               f"{summary.without_payload} without payload")
