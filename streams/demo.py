"""``adsent demo``: the main job on the embedded default, end to end on a real broker.

At this stage of the project the demo starts the embedded broker, creates the topics, publishes
sample ``AdUploaded`` events and reads them back through a consumer group.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import typer

from schemas.cli_support import fail, settings_of


def demo_command(
    ctx: typer.Context,
    ads: int = typer.Option(12, min=1, max=1000, help="How many sample ads to publish."),
    keep_broker: bool = typer.Option(False, help="Leave the embedded broker running afterwards."),
) -> None:
    """Run the pipeline on sample ads: broker up, topics, publish, read back, summary."""
    from schemas import AdUploaded, SchemaError, decode, encode
    from streams.broker import BrokerError, EmbeddedBroker
    from streams.connect import prepare_cluster
    from streams.samples import sample_ads

    settings = settings_of(ctx)
    try:
        servers, topics, started = prepare_cluster(settings)
    except BrokerError as exc:
        fail(str(exc))
    where = "embedded broker" if settings.uses_embedded_broker else "Kafka cluster"
    typer.echo(f"[1/3] {where} at {servers}" + (" (started)" if started else ""))
    for topic, outcome in topics.items():
        typer.echo(f"      topic {topic:<16} {outcome}, {settings.topic_partitions()[topic]} partition(s)")

    from kafka import KafkaProducer

    from streams.kafka_config import producer_options

    run_id = uuid.uuid4().hex[:8]
    producer = KafkaProducer(**producer_options(settings))
    sent: dict[str, AdUploaded] = {}
    started_at = time.perf_counter()
    for ad in sample_ads(ads, prefix=f"demo-{run_id}"):
        producer.send(settings.topic_uploaded, key=ad.ad_id.encode(), value=encode(ad))
        sent[ad.ad_id] = ad
    producer.flush()
    producer.close()
    typer.echo(f"[2/3] published {len(sent)} AdUploaded events to {settings.topic_uploaded} "
               f"in {time.perf_counter() - started_at:.2f} s")

    received = asyncio.run(_read_back(settings, set(sent), group=f"{settings.kafka_consumer_group}-demo-{run_id}"))
    bad = 0
    for value in received:
        try:
            ad = decode(value, AdUploaded, settings.validation_policy())
        except SchemaError as exc:
            bad += 1
            typer.echo(f"      undecodable message: {exc}")
            continue
        typer.echo(f"      {ad.ad_id}  {len(ad.image.data or b''):>7} B image  {ad.text[:60]}")
    typer.echo(f"[3/3] read back {len(received)} of {len(sent)} through a consumer group ({bad} undecodable)")
    if not keep_broker and started:
        EmbeddedBroker.from_settings(settings).down()
        typer.echo("      embedded broker stopped")
    if len(received) != len(sent) or bad:
        raise typer.Exit(1)


async def _read_back(settings, wanted: set[str], group: str, timeout_s: float = 30.0) -> list[bytes]:
    """Consume the uploaded topic from the start until every wanted ad id was seen."""
    from aiokafka import AIOKafkaConsumer

    from streams.kafka_config import client_options

    consumer = AIOKafkaConsumer(settings.topic_uploaded, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, **client_options(settings))
    found: dict[str, bytes] = {}
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        while len(found) < len(wanted) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    key = (record.key or b"").decode(errors="replace")
                    if key in wanted:
                        found[key] = record.value
            await consumer.commit()
    finally:
        await consumer.stop()
    return list(found.values())
