"""The event bus: queues at their own pace, handlers inside publish, a cause before its effects."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from edge_voice.events import Event, EventBus


@dataclass(frozen=True, kw_only=True)
class Cause(Event):
    n: int


@dataclass(frozen=True, kw_only=True)
class Effect(Event):
    n: int


async def test_what_a_handler_publishes_comes_after_its_cause_in_every_queue() -> None:
    bus = EventBus()
    queue = bus.subscribe()
    bus.on(Cause, lambda cause: bus.publish(Effect(n=cause.n)))
    bus.publish(Cause(n=1))
    got = [queue.get_nowait(), queue.get_nowait()]
    assert [type(e).__name__ for e in got] == ["Cause", "Effect"]
    assert queue.empty()


async def test_handlers_get_only_their_kind_and_a_failing_one_stops_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    causes: list[Cause] = []
    everything: list[Event] = []

    def broken(_: Cause) -> None:
        raise RuntimeError("handler bug")

    bus.on(Cause, broken)
    bus.on(Cause, causes.append)
    bus.on(Event, everything.append)
    queue = bus.subscribe()
    with caplog.at_level(logging.ERROR):
        bus.publish(Cause(n=1))
        bus.publish(Effect(n=2))
    assert [c.n for c in causes] == [1]
    assert [type(e).__name__ for e in everything] == ["Cause", "Effect"]
    assert queue.qsize() == 2
    assert "a handler of Cause failed" in caplog.text
