"""Create the configured topics with their partition counts through the Kafka admin API."""

from __future__ import annotations

import logging

from schemas.settings import Settings
from streams.service.kafka_config import client_options

log = logging.getLogger(__name__)


class TopicsMissingError(RuntimeError):
    """Topics adsent needs do not exist and creating them is turned off."""


def topic_config(settings: Settings, topic: str) -> dict[str, str]:
    """The configuration adsent gives a topic it creates: the message size limit, and on the
    dead-letter topic (whose letters keep the failed message, images included) a retention time."""
    config = {"max.message.bytes": str(settings.kafka_max_message_bytes)}
    if topic == settings.topic_deadletter:
        config["retention.ms"] = str(settings.deadletter_retention_hours * 3_600_000)
    return config


def ensure_topics(settings: Settings) -> dict[str, str]:
    """Create every topic adsent uses; topics that exist are left alone.

    With ``kafka_create_topics`` off, only checks that they exist (raises :class:`TopicsMissingError`).

    Returns ``topic -> "created" | "exists"``. A topic that exists with fewer partitions than
    configured is reported in the log, never shrunk or silently grown; its configuration is left alone.
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    wanted = settings.topic_partitions()
    admin = KafkaAdminClient(**client_options(settings))
    try:
        existing = set(admin.list_topics())
        outcome: dict[str, str] = {name: "exists" for name in wanted if name in existing}
        missing = [NewTopic(name, partitions, settings.kafka_replication_factor,
                            topic_configs=topic_config(settings, name))
                   for name, partitions in wanted.items() if name not in existing]
        if missing and not settings.kafka_create_topics:
            raise TopicsMissingError(
                f"missing topics {', '.join(t.name for t in missing)} and ADSENT_KAFKA_CREATE_TOPICS is false: "
                "create them (see `adsent settings` for names and partition counts)")
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:  # another worker won the race
                pass
            outcome.update({topic.name: "created" for topic in missing})
        for description in admin.describe_topics(sorted(outcome)):
            have = len(description["partitions"])
            if have < wanted[description["name"]]:
                log.warning("topic %s has %d partitions; settings ask for %d", description["name"], have,
                            wanted[description["name"]])
        return outcome
    finally:
        admin.close()
