"""Kafka client options derived from settings, for kafka-python, aiokafka and Faust."""

from __future__ import annotations

import ssl
from typing import Any

from schemas.settings import Settings


def bootstrap_servers(settings: Settings) -> str:
    """The configured cluster, or the embedded broker's loopback address."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    return f"{settings.broker_host}:{settings.broker_port}"


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if "SSL" not in settings.kafka_security_protocol:
        return None
    context = ssl.create_default_context(cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(str(settings.kafka_ssl_certfile),
                                str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None)
    return context


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments shared by kafka-python's and aiokafka's clients."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers(settings),
        "client_id": settings.kafka_client_id,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


def producer_options(settings: Settings) -> dict[str, Any]:
    """kafka-python producer options: durable (acks=all, idempotent) and sized for images."""
    return {**client_options(settings), "acks": "all", "enable_idempotence": True, "linger_ms": 5,
            "max_request_size": settings.kafka_max_message_bytes}
