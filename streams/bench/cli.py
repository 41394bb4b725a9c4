"""``adsent bench``: measure throughput, latency, ratios and memory; write result.json and report.md."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path

import typer

from schemas.cli_support import fail, settings_of

log = logging.getLogger(__name__)


def bench_command(
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
    90% of the rate). Figures are measured, never asserted; compare the ratios across machines."""
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
