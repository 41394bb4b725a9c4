"""The settings object: environment prefix, frozen, validated, derived views."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.settings import Settings, load_settings


def test_reads_the_adsent_prefix(monkeypatch) -> None:
    monkeypatch.setenv("ADSENT_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("ADSENT_PARTITIONS_UPLOADED", "12")
    monkeypatch.setenv("ADSENT_IMAGE_URI_HOSTS", '["*.cdn.example.com"]')
    settings = load_settings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert not settings.uses_embedded_broker
    assert settings.topic_partitions()["ads.uploaded"] == 12
    assert settings.validation_policy().allowed_uri_hosts == frozenset({"*.cdn.example.com"})


def test_is_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.broker_port = 1  # type: ignore[misc]


def test_every_field_is_documented() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert not undocumented


def test_sasl_needs_credentials() -> None:
    with pytest.raises(ValidationError, match="SASL"):
        Settings(kafka_security_protocol="SASL_SSL")
    settings = Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u", kafka_sasl_password="s3cr3t-pw")
    assert "s3cr3t-pw" not in repr(settings)


def test_unknown_variables_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(kafka_bootstrap_server="typo:9092")  # type: ignore[call-arg]


def test_bad_values_are_rejected(monkeypatch) -> None:
    monkeypatch.setenv("ADSENT_DEVICE", "tpu")
    with pytest.raises(ValidationError, match="device"):
        load_settings()
