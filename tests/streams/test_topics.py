"""Topics adsent creates get their configuration: the dead-letter topic a retention time."""

from __future__ import annotations

import pytest

from schemas.settings import Settings
from streams.service.topics import ensure_topics


class FakeAdmin:
    """Records the topics it is asked to create."""

    created: list = []

    def __init__(self, **options: object) -> None:
        pass

    def list_topics(self) -> list[str]:
        return ["ads.uploaded"]

    def create_topics(self, topics: list) -> None:
        FakeAdmin.created = topics

    def describe_topics(self, names: list[str]) -> list[dict]:
        return [{"name": name, "partitions": [0] * 4} for name in names]

    def close(self) -> None:
        pass


def test_the_dead_letter_topic_is_created_with_its_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kafka.KafkaAdminClient", FakeAdmin)
    settings = Settings(deadletter_retention_hours=48, kafka_max_message_bytes=2048)
    outcome = ensure_topics(settings)
    assert outcome["ads.uploaded"] == "exists" and outcome["ads.deadletter"] == "created"
    configs = {topic.name: topic.topic_configs for topic in FakeAdmin.created}
    assert configs["ads.deadletter"] == {"max.message.bytes": "2048", "retention.ms": str(48 * 3_600_000)}
    assert configs["ads.sentiment"] == {"max.message.bytes": "2048"}  # results are kept as the cluster says


@pytest.mark.integration
def test_the_broker_keeps_the_dead_letter_retention(broker_settings: Settings) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    from streams.service.kafka_config import client_options

    admin = KafkaAdminClient(**client_options(broker_settings))
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, broker_settings.topic_deadletter)])
    finally:
        admin.close()
    config = described["topic"][broker_settings.topic_deadletter]
    assert config["retention.ms"]["value"] == str(broker_settings.deadletter_retention_hours * 3_600_000)
