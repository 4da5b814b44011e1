"""The outbox: bounded events (oldest dropped, counted), retained values coalesced and kept."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_voice.mqtt.arbitration import beats
from edge_voice.mqtt.commands import ArbitrationClaim
from edge_voice.mqtt.connection import ReconnectPolicy
from edge_voice.mqtt.outbox import Outbox
from edge_voice.mqtt.payloads import Publication


def event(n: int) -> Publication:
    return Publication("b/event/transcript", str(n).encode(), retain=False)


def state(value: str) -> Publication:
    return Publication("b/state", value.encode(), retain=True)


async def drain(outbox: Outbox) -> list[Publication]:
    out = []
    while len(outbox):
        publication = await outbox.next()
        outbox.done(publication)
        out.append(publication)
    return out


async def test_events_beyond_the_bound_push_out_the_oldest_with_a_counted_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = Outbox(max_events=3)
    with caplog.at_level(logging.WARNING):
        for n in range(5):
            outbox.put(event(n))
    assert [p.payload for p in await drain(outbox)] == [b"2", b"3", b"4"]
    assert outbox.dropped == 2
    assert "2 dropped so far" in caplog.records[-1].getMessage()


async def test_retained_values_coalesce_and_do_not_count_against_the_bound() -> None:
    outbox = Outbox(max_events=2)
    outbox.put(state("a"))
    outbox.put(event(1))
    outbox.put(state("b"))
    outbox.put(event(2))
    assert [p.payload for p in await drain(outbox)] == [b"1", b"b", b"2"]
    assert outbox.dropped == 0 and outbox.latest("b/state") == state("b")


async def test_take_retained_returns_the_latest_values_and_unqueues_their_copies() -> None:
    outbox = Outbox(max_events=5)
    outbox.put(state("a"))
    outbox.put(Publication("ha/x/config", b"{}", retain=True), remember=False)
    outbox.put(event(1))
    assert outbox.take_retained() == [state("a")]
    # The not-remembered retained value and the event are still queued, in order.
    assert [p.topic for p in await drain(outbox)] == ["ha/x/config", "b/event/transcript"]
    assert outbox.take_retained() == [state("a")], "kept for the next reconnect"


async def test_an_in_flight_publication_dropped_meanwhile_is_not_removed_twice() -> None:
    outbox = Outbox(max_events=1)
    outbox.put(event(1))
    in_flight = await outbox.next()
    outbox.put(event(2))  # drops event 1 while it is being published
    outbox.done(in_flight)
    assert [p.payload for p in await drain(outbox)] == [b"2"]
    assert outbox.pending_events == 0


async def test_next_waits_for_a_publication() -> None:
    outbox = Outbox(max_events=1)
    waiter = asyncio.create_task(outbox.next())
    await asyncio.sleep(0)
    assert not waiter.done()
    outbox.put(event(7))
    assert (await asyncio.wait_for(waiter, 1)).payload == b"7"


@given(st.lists(st.one_of(st.integers(0, 99), st.sampled_from(["s1", "s2"])), max_size=60))
def test_order_is_kept_and_the_bound_holds(items: list[int | str]) -> None:
    outbox = Outbox(max_events=4)
    for item in items:
        outbox.put(event(item) if isinstance(item, int) else state(item))
    assert outbox.pending_events <= 4
    queued = []
    while len(outbox):
        publication = outbox._queue[0].publication
        outbox.done(publication)
        queued.append(publication)
    events = [p.payload for p in queued if not p.retain]
    expected = [str(i).encode() for i in items if isinstance(i, int)]
    assert events == expected[len(expected) - len(events) :]
    assert outbox.dropped == len(expected) - len(events)


def test_reconnect_delay_grows_is_capped_and_never_zero() -> None:
    policy = ReconnectPolicy(initial_s=1.0, max_s=8.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (3, 8.0), (500, 8.0)]:
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1, "jittered"


def test_arbitration_order_best_score_then_lowest_device_id() -> None:
    def claim(device_id: str, score: float) -> ArbitrationClaim:
        return ArbitrationClaim(device_id=device_id, score=score, ts="2026-01-01T00:00:00Z")

    assert beats(claim("b", 0.9), claim("a", 0.8))
    assert beats(claim("a", 0.8), claim("b", 0.8))
    assert not beats(claim("b", 0.8), claim("a", 0.8))
    assert not beats(claim("a", 0.8), claim("a", 0.8))
