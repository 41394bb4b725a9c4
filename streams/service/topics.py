"""Create the configured topics with their partition counts through the Kafka admin API."""

from __future__ import annotations

import logging

from schemas.settings import Settings
from streams.service.kafka_config import client_options

log = logging.getLogger(__name__)


class TopicsMissingError(RuntimeError):
    """Topics adsent needs do not exist and creating them is turned off."""


def ensure_topics(settings: Settings) -> dict[str, str]:
    """Create every topic adsent uses; topics that exist are left alone.

    With ``kafka_create_topics`` off, only checks that they exist (raises :class:`TopicsMissingError`).

    Returns ``topic -> "created" | "exists"``. A topic that exists with fewer partitions than
    configured is reported in the log, never shrunk or silently grown.
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    wanted = settings.topic_partitions()
    admin = KafkaAdminClient(**client_options(settings))
    try:
        existing = set(admin.list_topics())
        outcome: dict[str, str] = {name: "exists" for name in wanted if name in existing}
        topic_config = {"max.message.bytes": str(settings.kafka_max_message_bytes)}
        missing = [NewTopic(name, partitions, settings.kafka_replication_factor, topic_configs=topic_config)
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
