"""``adsent explain``: one self-contained HTML page that shows why each ad was tagged.

Three sources: image files run through the model in this process (like ``adsent predict``);
``--results``, a JSON-lines file of AdSentiment and DeadLetter events (``adsent tail --json``);
``--from-topic``, the sentiment and dead-letter topics read from their oldest retained event.
``--uploads`` adds the images and ad copy of those results (AdUploaded JSON lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from model.predict_cli import BatchSizeOption, CheckpointOption, UntrainedOption
from schemas.cli_support import fail, settings_of
from streams.report.config import ReportConfig

if TYPE_CHECKING:
    from tqdm import tqdm

    from schemas.events import AdUploaded
    from schemas.settings import Settings
    from streams.report.entries import Outcome

DEFAULT_OUT = Path("explain-report.html")


def explain_command(
    ctx: typer.Context,
    images: Annotated[list[Path] | None, typer.Argument(
        help="Ad image files to run through the model in this process (like `adsent predict`).", exists=True,
        dir_okay=False, readable=True)] = None,
    texts: Annotated[list[str] | None, typer.Option(
        "--text", "-t", help="The ad copy S of the images: once for all, or once per image in order.")] = None,
    results: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, readable=True,
        help="Explain results already made: AdSentiment and DeadLetter JSON lines (`adsent tail --json`).")] = None,
    from_topic: Annotated[bool, typer.Option(
        "--from-topic", help="Explain the results and dead letters on the topics, from the oldest retained.")] = False,
    uploads: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, readable=True,
        help="AdUploaded JSON lines with the images and ad copy of --results / --from-topic ads.")] = None,
    ad_ids: Annotated[list[str] | None, typer.Option(
        "--ad-id", help="Only this ad (repeatable), with --results / --from-topic.")] = None,
    max_ads: Annotated[int, typer.Option("--max", min=0, help="Keep only the last N outcomes (0: all).")] = 0,
    idle_timeout: Annotated[float, typer.Option(
        min=0.1, help="With --from-topic: stop reading after this many seconds with nothing new.")] = 5.0,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="The HTML file to write.")] = DEFAULT_OUT,
    page_size: Annotated[int, typer.Option(min=1, help="Ads per page of the report.")] = ReportConfig.page_size,
    screenshot: Annotated[Path | None, typer.Option(
        dir_okay=False, help="Also write a PNG of the page's top, rendered by headless Chromium.")] = None,
    screenshot_height: Annotated[int, typer.Option(min=200, help="Height of that PNG in pixels (1280 wide).")] = 1600,
    checkpoint: CheckpointOption = None,
    untrained: UntrainedOption = False,
    batch_size: BatchSizeOption = 8,
) -> None:
    """Write one HTML report of why each ad was tagged: boxes on the image, tagged spans, scores, gate.

    Open the file in any browser; it needs no network. Examples:

      adsent explain ad1.jpg ad2.png -t "Soft leather seats" -t "Quiet cabin" -o report.html

      adsent tail --json --from-beginning --idle-timeout 5 > results.jsonl && adsent explain --results results.jsonl
    """
    from dataclasses import replace

    from streams.report import entries_of, write_report
    from streams.report.entries import ReportInputError, read_outcomes, read_uploads

    settings = settings_of(ctx)
    if sum([bool(images), results is not None, from_topic]) != 1:
        fail("give image files, --results FILE or --from-topic (exactly one)", code=2)
    if images and (uploads or ad_ids):
        fail("--uploads and --ad-id go with --results or --from-topic", code=2)
    texts = texts or [""]
    if len(texts) not in (1, len(images or [])):
        fail(f"give --text once, or once per image ({len(images or [])}), not {len(texts)} times", code=2)
    try:
        if images:
            outcomes, upload_map = _run_images(settings, images, texts, checkpoint, untrained, batch_size)
        else:
            upload_map = read_uploads(uploads, settings.validation_policy()) if uploads else {}
            outcomes = (read_outcomes(results, settings.validation_policy()) if results is not None
                        else _topic_outcomes(settings, idle_timeout))
    except ReportInputError as exc:
        fail(str(exc))
    if ad_ids:
        outcomes = [o for o in outcomes if o.ad_id in set(ad_ids)]
    if max_ads:
        outcomes = outcomes[-max_ads:]
    if not outcomes:
        fail("nothing to explain: no results or dead letters were found")
    config = replace(ReportConfig(), page_size=page_size)
    entries = entries_of(outcomes, upload_map)
    try:
        with _progress(len(entries), "report") as bar:
            path = write_report(entries, out, config, on_entry=lambda: bar.update(1))
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")
    typer.echo(f"wrote {path} ({len(entries)} ads, {path.stat().st_size / 1024:.0f} KB); open it in a browser: "
               f"{path.as_uri()}")
    if screenshot is not None:
        from streams.report.browser import BrowserError
        from streams.report.browser import screenshot as take

        try:
            typer.echo(f"wrote {take(path, screenshot, height=screenshot_height)}")
        except BrowserError as exc:
            fail(str(exc))


def _run_images(settings: Settings, images: list[Path], texts: list[str], checkpoint: Path | None, untrained: bool,
                batch_size: int) -> tuple[list[Outcome], dict[str, AdUploaded]]:
    """Run the images (with one copy for all, or one each) through the served model here; the outcomes
    and the uploads made of them."""
    from model.predict_cli import predict_errors, serving_model, uploads_of
    from streams.report.inprocess import run_ads

    try:
        policy = settings.validation_policy()
        ads = (uploads_of(images, texts[0], policy) if len(texts) == 1 else
               [ad for image, text in zip(images, texts) for ad in uploads_of([image], text, policy)])
        model = serving_model(settings, checkpoint, untrained)
        with _progress(len(ads), "ads") as bar:
            outcomes = run_ads(model, ads, batch_size, on_ads=bar.update)
    except predict_errors() as exc:
        fail(str(exc))
    return outcomes, {ad.ad_id: ad for ad in ads}


def _topic_outcomes(settings: Settings, idle_timeout: float) -> list[Outcome]:
    """Every result and dead letter on the topics, oldest first, until ``idle_timeout`` passes quietly."""
    from kafka.errors import KafkaError

    from streams.ops.client import Follower

    try:
        follower = Follower(settings, from_beginning=True)
    except KafkaError as exc:
        fail(f"cannot read the topics ({type(exc).__name__}: {exc}); is the broker up (`adsent broker up`)?")
    try:
        return [o.result or o.dead_letter for o in follower.outcomes(timeout_s=idle_timeout)]
    finally:
        follower.close()


def _progress(total: int, unit: str) -> tqdm:
    """A progress bar on stderr, for two or more items."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=unit, dynamic_ncols=True, leave=False, disable=total < 2)
