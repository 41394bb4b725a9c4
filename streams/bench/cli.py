"""``adsent bench``: measure throughput, latency, ratios and memory; write result.json and report.md.
``adsent bench soak``: hold one worker at a steady load for minutes; fail when lag or memory keeps growing."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path

import typer

from schemas.cli_support import fail, settings_of
from streams.bench.soak_config import SoakConfig

log = logging.getLogger(__name__)

# The ``adsent.commands`` entry point names this group: ``adsent bench`` runs the benchmark,
# ``adsent bench soak`` the soak.
bench_command = typer.Typer(no_args_is_help=False, pretty_exceptions_enable=False)


@bench_command.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    out: Path = typer.Option(Path("runs/bench"), help="Directory for result.json, report.md and the work/ logs."),
    quick: bool = typer.Option(False, "--quick", help="About 6 minutes on 2 CPU cores: fewer batch sizes, ads and runs, shorter loads."),
    end_to_end: bool = typer.Option(True, "--end-to-end/--no-end-to-end",
                                    help="Also run workers through an embedded broker of the bench's own."),
    threads: int = typer.Option(1, min=1, help="torch threads per process (OCR runs onnxruntime with DescribeConfig.ocr_threads)."),
    profile: bool = typer.Option(False, "--profile",
                                 help="Also sample the 1-worker phase with py-spy during an extra burst; writes "
                                      "work/profile-worker.txt and a per-thread summary in the report."),
) -> None:
    """Benchmark every stage in process (batch sizes 1-32, CPU and GPU when present), describe in 1 and 2
    processes, the whole pipeline in process without a broker, and through a real broker with 1 and 2
    workers (three runs each on a fresh broker: max rate, CPU per ad of each process, latency at 50% and
    90% of the rate). Figures are measured, never asserted; compare the ratios across machines.
    `adsent bench soak --help` describes the soak."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import replace

    from streams.bench.config import BenchConfig
    from streams.bench.inprocess import BenchError
    from streams.bench.report import render
    from streams.bench.run import run
    from streams.ops.worker_process import WorkerProcessError

    settings = settings_of(ctx)
    config = replace(BenchConfig.quick() if quick else BenchConfig(), end_to_end=end_to_end, threads=threads,
                     profile=profile)
    out.mkdir(parents=True, exist_ok=True)
    command = "adsent bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        result = run(settings, config, out, "quick" if quick else "full", command)
    except (BenchError, WorkerProcessError) as exc:
        fail(str(exc))
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str))
    (out / "report.md").write_text(render(result))
    typer.echo(f"wrote {out / 'result.json'} and {out / 'report.md'}")


@bench_command.command("soak")
def soak_command(
    ctx: typer.Context,
    out: Path = typer.Option(Path("runs/bench"), help="The bench results directory: the rate is read from "
                             "OUT/result.json; soak.json, soak.md and work/soak-worker.log are written here."),
    rate: float = typer.Option(None, min=0.0, help="Ads per second to publish. Default: --load times the 1-worker "
                               "end-to-end rate in OUT/result.json, the file `adsent bench --out OUT` writes."),
    load: float = typer.Option(SoakConfig.load, min=0.0, help="Share of the bench's rate, when --rate is not given."),
    duration: float = typer.Option(SoakConfig.duration_s, min=1.0, help="Seconds of publishing; rate x duration ads."),
    interval: float = typer.Option(SoakConfig.interval_s, min=0.5, help="Seconds between samples."),
    judge_from: float = typer.Option(SoakConfig.judge_from, min=0.0, max=0.9,
                                     help="Growth is judged on samples after this share of the duration."),
    max_lag_slope: float = typer.Option(SoakConfig.max_lag_slope_per_min,
                                        help="Fail when committed lag grows faster (msgs/min) ..."),
    max_final_lag: float = typer.Option(SoakConfig.max_final_lag,
                                        help="... and the final lag (median of the last 3 samples) exceeds "
                                             "this (msgs)."),
    max_rss_slope: float = typer.Option(SoakConfig.max_rss_slope_mb_per_min,
                                        help="Fail when worker RSS grows faster (MB/min) ..."),
    max_rss_rise: float = typer.Option(SoakConfig.max_rss_rise_mb,
                                       help="... and the fitted rise over the judged span exceeds this (MB)."),
    drain_timeout: float = typer.Option(SoakConfig.drain_timeout_s, min=1.0,
                                        help="Longest wait after publishing for every ad's result or dead letter (s)."),
    own_broker: bool = typer.Option(SoakConfig.own_broker, "--own-broker/--configured-cluster",
                                    help="A fresh embedded broker under OUT/work/soak-state, or the cluster the "
                                         "ADSENT_* settings name (topics and group of the soak's own either way)."),
    threads: int = typer.Option(SoakConfig.threads, min=1, help="torch and onnxruntime threads of the worker."),
) -> None:
    """Soak one all-stages worker: publish at a steady rate for --duration, sample every --interval the
    committed consumer lag of its group (all input topics), its RSS and the end-to-end latency p50/p95/p99
    of the results of that window; then wait for every ad's result or dead letter. Exits 1 when lag or RSS
    keeps growing (least-squares slope over the judged span above its limit AND the level above its limit),
    when an ad is missing, or when the worker exits. Writes OUT/soak.json (time series and summary) and
    OUT/soak.md. At least 10 minutes for a memory verdict; short runs check the plumbing."""
    from streams.bench.inprocess import BenchError
    from streams.bench.soak import run_soak
    from streams.bench.soak_config import bench_rate
    from streams.bench.soak_report import render as render_soak
    from streams.bench.soak_report import summary_lines
    from streams.devbroker import BrokerError
    from streams.ops.worker_process import WorkerProcessError

    settings = settings_of(ctx)
    config = SoakConfig(duration_s=duration, load=load, interval_s=interval, judge_from=judge_from,
                        max_lag_slope_per_min=max_lag_slope, max_final_lag=max_final_lag,
                        max_rss_slope_mb_per_min=max_rss_slope, max_rss_rise_mb=max_rss_rise,
                        drain_timeout_s=drain_timeout, own_broker=own_broker, threads=threads)
    try:
        source = "--rate"
        if not rate:
            rate = load * bench_rate(out / "result.json")
            source = f"{load:.0%} of the 1-worker rate in {out}/result.json"
        result = run_soak(settings, config, rate, out / "work", typer.echo)
    except (BenchError, WorkerProcessError, BrokerError) as exc:
        fail(str(exc))
    result["rate"]["source"] = source
    args = sys.argv[3:] if ctx.parent is not None else sys.argv[1:]  # adsent bench soak ... | python -m ...
    result["command"] = "adsent bench soak " + " ".join(shlex.quote(a) for a in args)
    (out / "soak.json").write_text(json.dumps(result, indent=2, default=str))
    (out / "soak.md").write_text(render_soak(result))
    for line in summary_lines(result):
        typer.echo(line)
    typer.echo(f"wrote {out / 'soak.json'} and {out / 'soak.md'}")
    if not result["verdict"]["passed"]:
        raise typer.Exit(1)
