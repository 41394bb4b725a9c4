"""``adsent demo``: the main job on the embedded default, end to end.

Starts the embedded broker (unless a cluster is configured), a worker with the served model in a
subprocess (it serves /metrics while the demo runs), publishes sample ads (ad-corpus test ads with
their rendered images, the real photos that ship in packages, and two deliberately broken ads),
prints each ad's attribute-sentiment pairs as they arrive, then a summary, and shuts down cleanly.
It ends by writing the explain report of the ads it ran (``streams.report``) and printing its path.
"""

from __future__ import annotations

import statistics
import uuid
from pathlib import Path

import typer

from schemas.cli_support import fail, settings_of


def demo_command(
    ctx: typer.Context,
    ads_jsonl: Path = typer.Option(None, exists=True, dir_okay=False,
                                   help="Ads in the project's JSONL format to publish (e.g. the ad corpus's test split)."),
    images_dir: Path = typer.Option(None, file_okay=False, help="Where the JSONL's relative image paths resolve."),
    limit: int = typer.Option(24, min=0, help="Publish at most this many ads from --ads-jsonl."),
    photos: int = typer.Option(6, min=0, max=100, help="How many ads with real photos from packages to add."),
    broken: bool = typer.Option(True, help="Also publish two broken ads, to show dead letters."),
    timeout: float = typer.Option(600.0, help="Seconds to wait for every outcome."),
    report: Path = typer.Option(None, dir_okay=False,
                                help="Where to write the HTML report of the ads (`adsent explain`'s page). "
                                     "Default: <ADSENT_STATE_DIR>/demo-report.html."),
) -> None:
    """Run the pipeline on sample ads and show what comes out."""
    from streams.devbroker import BrokerError, EmbeddedBroker
    from streams.service.connect import prepare_cluster
    from streams.demo.run import DemoWorker, sample_batch, write_demo_report
    from streams.ops.worker_process import WorkerProcessError

    settings = settings_of(ctx)
    try:
        servers, _, started = prepare_cluster(settings)
    except BrokerError as exc:
        fail(str(exc))
    typer.echo(f"[1/4] {'embedded broker' if settings.uses_embedded_broker else 'Kafka cluster'} at {servers}"
               + (" (started)" if started else ""))
    run_id = uuid.uuid4().hex[:6]
    try:
        good, bad = sample_batch(settings, ads_jsonl, images_dir, limit, photos, broken, run_id)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    worker = DemoWorker(settings)
    try:
        typer.echo(f"[2/4] worker starting (all stages); metrics at {worker.url('/metrics')}")
        worker.wait_ready()
        typer.echo(f"[3/4] publishing {len(good)} ads" + (f" and {len(bad)} broken ones" if bad else ""))
        outcomes = worker.run(good, bad, timeout)
    except WorkerProcessError as exc:
        fail(str(exc))
    finally:
        code = worker.stop()
        if started:
            EmbeddedBroker.from_settings(settings).down()
    _summary(len(good) + len(bad), outcomes, code, started)
    if outcomes:
        try:
            path = write_demo_report(good, bad, outcomes, report or settings.state_dir / "demo-report.html")
            typer.echo(f"      report: {path} (open {path.as_uri()} in a browser)")
        except OSError as exc:
            typer.echo(f"      report not written: {exc}", err=True)
    if len(outcomes) < len(good) + len(bad):
        raise typer.Exit(1)


def _summary(sent: int, outcomes: dict, worker_exit: int | None, stopped_broker: bool) -> None:
    results = [o.result for o in outcomes.values() if o.result is not None]
    letters = [o.dead_letter for o in outcomes.values() if o.dead_letter is not None]
    latencies = sorted(r.end_to_end_seconds for r in results)
    typer.echo(f"[4/4] ads in {sent}, results {len(results)}, dead-lettered {len(letters)}, "
               f"missing {sent - len(outcomes)}")
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
        typer.echo(f"      end-to-end latency p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s "
                   "(from upload time; all ads arrive in one burst, so this includes queueing behind it)")
    for letter in letters:
        typer.echo(f"      dead letter {letter.ad_id}: {letter.stage}/{letter.code}")
    typer.echo(f"      worker stopped (exit {worker_exit})" + ("; embedded broker stopped" if stopped_broker else ""))

