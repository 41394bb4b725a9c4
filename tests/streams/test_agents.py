"""The agents, driven in memory with Faust's test_context (no broker)."""

from __future__ import annotations

import asyncio

import pytest

from schemas import AdDescribed, AdUploaded, DeadLetter, ImageRef, decode, encode
from schemas.settings import Settings
from streams.service.app import create_app
from streams.service.health import Health
from streams.service.metrics import Metrics
from tests.streams.conftest import UppercaseStage


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.sent.append((topic, key, value))


@pytest.fixture
def wiring(tmp_path):
    settings = Settings(state_dir=tmp_path, describe_max_batch=2, describe_max_wait_s=0.05, retry_backoff_s=0.0)
    metrics = Metrics()
    stage = UppercaseStage(settings, metrics)
    publisher = RecordingPublisher()
    app = create_app(settings, {"describe": stage}, metrics, Health(metrics), publisher=publisher)
    app.finalize()
    app.flow_control.resume()
    return settings, app, publisher


def test_describe_agent_sends_results_and_dead_letters(wiring) -> None:
    settings, app, publisher = wiring
    agent = app.agents["adsent.describe"]

    async def drive() -> None:
        async with agent.test_context() as test_agent:
            good = AdUploaded(ad_id="ad-1", image=ImageRef(data=b"x"), text="soft leather")
            await test_agent.put(encode(good), key=b"ad-1")
            await test_agent.put(b"{broken", key=b"ad-2")
            for _ in range(100):
                if len(publisher.sent) == 2:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(drive())
    by_topic = {topic: value for topic, _, value in publisher.sent}
    assert decode(by_topic[settings.topic_described], AdDescribed).description.caption == "SOFT LEATHER"
    letter = decode(by_topic[settings.topic_deadletter], DeadLetter)
    assert letter.code == "invalid_json" and letter.ad_id == "ad-2" and letter.payload == b"{broken"
    assert sorted(key for _, key, _ in publisher.sent) == [b"ad-1", b"ad-2"]


def test_consumer_group_is_per_stage_set(tmp_path) -> None:
    from streams.service.app import app_id

    settings = Settings(state_dir=tmp_path)
    assert app_id(settings, ["classify", "describe"]) == "adsent-describe-classify"
    assert app_id(settings, ["features"]) == "adsent-features"


def test_records_of_reads_the_replay_count_header() -> None:
    from types import SimpleNamespace

    from streams.service.app import records_of

    message = SimpleNamespace(value=b"{}", key=b"k", topic="ads.uploaded", partition=0, offset=3,
                              headers=[("adsent-replays", b"2")])
    assert records_of([SimpleNamespace(message=message)])[0].replays == 2
