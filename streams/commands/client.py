"""``adsent publish`` and ``adsent tail``: the platform's side of the pipeline."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer

from schemas.cli_support import fail, settings_of


def publish_command(
    ctx: typer.Context,
    images: list[Path] = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Ad image files."),
    text: str = typer.Option(..., "--text", "-t", help="The ad copy (the same for every image given)."),
    ad_id: str = typer.Option(None, help="Ad id (one image only). Default: a new random id per image."),
    platform: str = typer.Option("cli", help="Platform name carried in the event."),
    wait: bool = typer.Option(False, "--wait", help="Wait for each ad's AdSentiment (or DeadLetter) and print it as JSON."),
    timeout: float = typer.Option(300.0, help="Seconds to wait with --wait."),
) -> None:
    """Publish AdUploaded events (image inline) to the uploaded topic."""
    from schemas import AdUploaded, ImageRef, SchemaError, encode
    from streams.ops.client import Follower, publish

    settings = settings_of(ctx)
    if ad_id and len(images) > 1:
        fail("--ad-id takes one image", code=2)
    ads = []
    for image in images:
        try:
            ads.append(AdUploaded.model_validate(
                {"ad_id": ad_id or f"ad-{uuid.uuid4().hex[:12]}", "image": ImageRef(data=image.read_bytes()),
                 "text": text, "platform": platform}, context={"policy": settings.validation_policy()}))
        except (SchemaError, ValueError) as exc:
            fail(f"{image}: {exc}")
    follower = Follower(settings) if wait else None
    publish(settings, ads)
    for ad, image in zip(ads, images):
        typer.echo(f"published {ad.ad_id} ({image.name}) to {settings.topic_uploaded}", err=wait)
    if follower is None:
        return
    try:
        found = follower.wait_for({ad.ad_id for ad in ads}, timeout)
    finally:
        follower.close()
    for ad in ads:
        outcome = found.get(ad.ad_id)
        if outcome is None:
            typer.echo(f"no result for {ad.ad_id} within {timeout:.0f} s (is a worker running?)", err=True)
            continue
        typer.echo(encode(outcome.result or outcome.dead_letter).decode())
    if len(found) < len(ads) or any(o.dead_letter for o in found.values()):
        raise typer.Exit(1)


def tail_command(
    ctx: typer.Context,
    json_lines: bool = typer.Option(False, "--json", help="Print each AdSentiment as one JSON line."),
    from_beginning: bool = typer.Option(False, help="Start at the oldest retained result, not at the end."),
    max_results: int = typer.Option(0, "--max", min=0, help="Stop after this many results (0: follow forever)."),
    idle_timeout: float = typer.Option(0.0, help="Stop after this many seconds with nothing new (0: never)."),
) -> None:
    """Follow the sentiment topic as a readable table (and dead letters, flagged)."""
    from schemas import encode
    from streams.ops.client import Follower
    from streams.ops.render import outcome_line

    settings = settings_of(ctx)
    follower = Follower(settings, from_beginning=from_beginning)
    shown = 0
    try:
        for outcome in follower.outcomes(timeout_s=idle_timeout or None):
            event = outcome.result or outcome.dead_letter
            typer.echo(encode(event).decode() if json_lines else outcome_line(outcome))
            shown += 1
            if max_results and shown >= max_results:
                break
    except KeyboardInterrupt:
        pass
    finally:
        follower.close()
