"""Only messages an agent was handed are acknowledged."""

from __future__ import annotations

from types import SimpleNamespace

from streams.service.faust_acks import ack_only_tracked


def test_a_message_no_agent_was_handed_is_not_acknowledged() -> None:
    acked: list[int] = []
    ack = ack_only_tracked(lambda consumer, message: acked.append(message.offset) or True)
    assert not ack(None, SimpleNamespace(offset=1, tracked=False))  # skipped by a stopping stream
    assert ack(None, SimpleNamespace(offset=2, tracked=True))
    assert acked == [2]


def test_the_patched_method_exists_in_the_pinned_faust() -> None:
    from faust.transport.consumer import Consumer

    import inspect

    assert list(inspect.signature(Consumer.ack).parameters) == ["self", "message"]
