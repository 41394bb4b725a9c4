"""Kafka bytes per ad on each topic, measured through a real worker on the embedded broker.

``python -m streams.bench.topic_bytes --ads-jsonl training/data/adcorpus/test.jsonl --images-dir
.adsent/adcorpus_images --ads 24 --photos 6 --out runs/topic-bytes.json`` starts a fresh broker in a temporary
state dir, one all-stages worker on the served model, publishes the ads, waits for every result
or dead letter, then reads every topic back and reports the mean and largest message value per
topic (what the broker stores and every consumer of that topic downloads).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from schemas.pipeline import ALL_STAGES
from schemas.settings import Settings, load_settings

TOPIC_KINDS = ("uploaded", "described", "features", "sentiment", "deadletter")
READ_TIMEOUT_S = 30.0


def topic_bytes(settings: Settings) -> dict[str, dict[str, float]]:
    """``{kind: {"messages", "mean_kb", "max_kb"}}`` of every message value now on each topic."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.service.kafka_config import client_options

    consumer = KafkaConsumer(**client_options(settings), enable_auto_commit=False,
                             max_partition_fetch_bytes=settings.kafka_max_message_bytes,
                             fetch_max_bytes=settings.kafka_max_message_bytes)
    report = {}
    try:
        for kind in TOPIC_KINDS:
            topic = getattr(settings, f"topic_{kind}")
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            sizes: list[int] = []
            deadline = time.monotonic() + READ_TIMEOUT_S
            while any(consumer.position(tp) < ends[tp] for tp in partitions) and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=500).values():
                    sizes.extend(len(record.value or b"") for record in records)
            report[kind] = {"messages": len(sizes),
                            "mean_kb": round(statistics.fmean(sizes) / 1024, 1) if sizes else 0.0,
                            "max_kb": round(max(sizes) / 1024, 1) if sizes else 0.0}
    finally:
        consumer.close()
    return report


def measure(base: Settings, ads_jsonl: Path, images_dir: Path, count: int, photos: int,
            timeout_s: float) -> dict[str, Any]:
    """Run ``count`` corpus ads and ``photos`` photo ads through a fresh broker and one worker; the
    bytes per topic."""
    from streams.devbroker import EmbeddedBroker
    from streams.ops.client import Follower, publish
    from streams.service.connect import prepare_cluster
    from streams.demo.run import sample_batch
    from streams.ops.worker_process import WorkerProcess, free_port

    with tempfile.TemporaryDirectory(prefix="adsent-bytes-") as state:
        checkpoint = base.checkpoint_dir or (base.starter_model_dir if base.starter_model_dir.is_dir() else None)
        settings = base.model_copy(update={"state_dir": Path(state), "broker_port": free_port(),
                                           "checkpoint_dir": checkpoint})
        prepare_cluster(settings)
        worker = WorkerProcess(settings, ALL_STAGES, Path(state) / "worker.log")
        try:
            worker.wait_ready()
            good, _ = sample_batch(settings, ads_jsonl, images_dir, count, photos, False, "bytes")
            follower = Follower(settings)
            publish(settings, good)
            outcomes = follower.wait_for({ad.ad_id for ad in good}, timeout_s)
            follower.close()
            return {"ads": len(good), "ended": len(outcomes), "checkpoint": str(checkpoint),
                    "topics": topic_bytes(settings)}
        finally:
            worker.stop()
            EmbeddedBroker.from_settings(settings).down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads-jsonl", type=Path, required=True, help="Ads in the JSON-lines ad format.")
    parser.add_argument("--images-dir", type=Path, required=True, help="Their images.")
    parser.add_argument("--ads", type=int, default=24, help="How many ads to send (spread over the file).")
    parser.add_argument("--photos", type=int, default=6, help="Photo ads (JPEG photos that ship in packages) to add.")
    parser.add_argument("--timeout", type=float, default=600.0, help="Seconds to wait for every outcome.")
    parser.add_argument("--out", type=Path, help="Write the report JSON here as well.")
    args = parser.parse_args()
    report = measure(load_settings(), args.ads_jsonl, args.images_dir, args.ads, args.photos, args.timeout)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
