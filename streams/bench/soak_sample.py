"""What a soak reads every interval: committed consumer lag, a process's RSS, latency of one window."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from schemas.settings import Settings
from streams.bench.machine import status_mb
from streams.bench.pipeline import latency_summary

log = logging.getLogger(__name__)


def rss_mb(pid: int | None) -> float | None:
    """Current resident memory (VmRSS) of a process in MiB; None where /proc has no answer."""
    return None if pid is None else status_mb("VmRSS", pid)


def window_latency(arrivals: Mapping[str, float], latencies: Mapping[str, float], start: float,
                   end: float) -> dict:
    """Results that arrived in ``(start, end]`` (monotonic seconds): their count and end-to-end
    latency p50/p95/p99 (None when the window had none)."""
    values = [latencies[ad] for ad, at in arrivals.items() if start < at <= end and ad in latencies]
    if not values:
        return {"window_results": 0, "latency_p50_s": None, "latency_p95_s": None, "latency_p99_s": None}
    return {"window_results": len(values), **latency_summary(values)}


def total_lag(end_offsets: Mapping[object, int], committed: Mapping[object, int]) -> dict[str, int]:
    """Messages not yet committed per topic (end offset minus committed offset, never below 0). A
    partition with no commit yet counts from offset 0: the soak's topics are new."""
    by_topic: dict[str, int] = {}
    for tp, end in end_offsets.items():
        done = committed.get(tp, -1)
        by_topic[tp.topic] = by_topic.get(tp.topic, 0) + max(end - max(done, 0), 0)  # type: ignore[attr-defined]
    return by_topic


class LagProbe:
    """Committed-offset lag of one consumer group on its input topics, as a monitoring system sees it."""

    def __init__(self, settings: Settings, group: str, topics: Sequence[str]) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        from streams.service.kafka_config import client_options

        self.group = group
        self.admin = KafkaAdminClient(**client_options(settings))
        self.offsets = KafkaConsumer(**client_options(settings), enable_auto_commit=False)  # no group: reads only
        self.partitions = [TopicPartition(topic, p) for topic in topics
                           for p in sorted(self.offsets.partitions_for_topic(topic) or ())]

    def read(self) -> dict[str, int] | None:
        """Lag per input topic now; None when the cluster did not answer."""
        from kafka.errors import KafkaError

        try:
            ends = self.offsets.end_offsets(self.partitions)
            committed = self.admin.list_group_offsets({self.group: self.partitions}).get(self.group, {})
        except KafkaError as exc:
            log.warning("lag not read: %s", exc)
            return None
        return total_lag(ends, {tp: meta.offset for tp, meta in committed.items()})

    def close(self) -> None:
        self.offsets.close()
        self.admin.close()
