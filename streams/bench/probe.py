"""A separate process that runs stages on prepared records: for scaling across processes and peak RSS per role.

    python -m streams.bench.probe --stages describe --records IN.bin --ads 24 --out OUT.json [--start-file F]

It loads and warms the stages, writes ``OUT.json.ready``, waits for ``--start-file`` (so several
probes start together), runs ``--ads`` ads through the stages in batches of each stage's batch size
on its device (as a worker takes them) and writes throughput, CPU time and peak RSS (VmHWM) to ``OUT.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import struct
import time
from collections.abc import Sequence
from pathlib import Path

from schemas.pipeline import in_order
from streams.service.stages import InRecord

LENGTH = struct.Struct("<Q")
POLL_S = 0.05


def write_records(path: Path, records: Sequence[InRecord]) -> None:
    """Record values, length-prefixed (keys are the ad ids inside the values)."""
    with open(path, "wb") as handle:
        for record in records:
            handle.write(LENGTH.pack(len(record.value)))
            handle.write(record.value)
            handle.write(LENGTH.pack(len(record.key or b"")))
            handle.write(record.key or b"")


def read_records(path: Path) -> list[InRecord]:
    data, offset, out = path.read_bytes(), 0, []
    while offset < len(data):
        (n,) = LENGTH.unpack_from(data, offset)
        value = data[offset + LENGTH.size: offset + LENGTH.size + n]
        offset += LENGTH.size + n
        (k,) = LENGTH.unpack_from(data, offset)
        key = data[offset + LENGTH.size: offset + LENGTH.size + k] or None
        offset += LENGTH.size + k
        out.append(InRecord(value=value, key=key))
    return out


def run(stage_names: list[str], records: list[InRecord], ads: int, start_file: Path | None, ready: Path,
        concurrent: bool = False, repeats: int = 1) -> dict:
    from schemas.settings import load_settings
    from streams.service.app import on_gpu, routes
    from streams.bench.inprocess import build, chained, pipelined
    from streams.bench.machine import cpu_seconds, peak_rss_mb

    settings = load_settings()
    stages = build(settings, stage_names)
    ready.write_text("ready")
    while start_file is not None and not start_file.exists():
        time.sleep(POLL_S)
    batches = {name: route.max_batch for name, route in routes(settings, on_gpu(settings)).items()}  # as a worker
    work = [records[i % len(records)] for i in range(ads)]
    started, cpu0 = time.time(), cpu_seconds()
    runs = [pipelined(stages, stage_names, work, batches) if concurrent else chained(stages, stage_names, work, batches)
            for _ in range(repeats)]  # when each ad finished, per run
    ended = time.time()
    return {"stages": stage_names, "concurrent": concurrent, "ads": ads * repeats, "started": started,
            "ended": ended, "finished_at_monotonic": runs, "ads_per_s": ads * repeats / (ended - started),
            "cpu_seconds_per_ad": (cpu_seconds() - cpu0) / (ads * repeats), "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", required=True, help="comma-separated stages, in pipeline order")
    parser.add_argument("--records", type=Path, required=True, help="input records of the first stage")
    parser.add_argument("--ads", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--start-file", type=Path, default=None, help="wait for this file before timing")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of this process")
    parser.add_argument("--repeats", type=int, default=1, help="run the ads through this many times")
    parser.add_argument("--concurrent", action="store_true",
                        help="run the stages at once, one thread each (as a worker does), not one after another")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(args.threads)
    names = in_order(args.stages.split(","))
    ready = args.out.with_name(args.out.name + ".ready")
    args.out.write_text(json.dumps(run(names, read_records(args.records), args.ads, args.start_file, ready,
                                           args.concurrent, args.repeats)))


if __name__ == "__main__":
    main()
