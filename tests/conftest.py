"""Shared fixtures. A real embedded Kafka-protocol broker per test session, on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(__file__).resolve().parent.parent / ".adsent" / "ultralytics"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


from streams.ops.worker_process import free_port  # noqa: E402 - after the environment defaults above


@pytest.fixture(scope="session")
def broker_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator["Settings"]:  # noqa: F821
    """Settings whose embedded broker runs (started here, stopped at the end) with topics created."""
    from schemas.settings import Settings
    from streams.service.connect import prepare_cluster
    from streams.devbroker import EmbeddedBroker

    settings = Settings(state_dir=tmp_path_factory.mktemp("state"), broker_port=free_port())
    prepare_cluster(settings)
    try:
        yield settings
    finally:
        EmbeddedBroker.from_settings(settings).down()
