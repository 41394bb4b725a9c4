"""Make sure a broker is reachable and the topics exist, embedded or external."""

from __future__ import annotations

from schemas.settings import Settings
from streams.devbroker import EmbeddedBroker
from streams.service.kafka_config import bootstrap_servers
from streams.service.topics import ensure_topics


def prepare_cluster(settings: Settings) -> tuple[str, dict[str, str], bool]:
    """Start the embedded broker when no cluster is configured; create the topics.

    Returns ``(bootstrap servers, topic -> created|exists, whether this call started the broker)``.
    """
    started = False
    if settings.uses_embedded_broker:
        broker = EmbeddedBroker.from_settings(settings)
        started = broker.pid() is None
        broker.up()
    return bootstrap_servers(settings), ensure_topics(settings), started
