"""The outbox: nothing dropped while connected; offline bounded, states dropped before events."""

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
from edge_voice.mqtt.payloads import Expiry, Publication


def event(n: int) -> Publication:
    return Publication("b/event/transcript", str(n).encode(), retain=False)


def state(value: str, topic: str = "b/state") -> Publication:
    return Publication(topic, value.encode(), retain=True)


async def drain(outbox: Outbox) -> list[Publication]:
    out = []
    while len(outbox):
        publication = await outbox.take()
        outbox.done(publication)
        out.append(publication)
    return out


def offline(max_pending: int) -> Outbox:
    outbox = Outbox(max_pending)
    outbox.set_connected(False)
    return outbox


async def test_while_connected_nothing_is_dropped_beyond_the_bound() -> None:
    outbox = Outbox(max_pending=3)
    outbox.set_connected(True)
    for n in range(10):
        outbox.put(event(n))
    assert [p.payload for p in await drain(outbox)] == [str(n).encode() for n in range(10)]
    assert outbox.dropped_events == outbox.dropped_states == 0


async def test_while_the_broker_is_away_the_oldest_events_go_with_a_counted_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = offline(max_pending=3)
    with caplog.at_level(logging.WARNING):
        for n in range(5):
            outbox.put(event(n))
    assert len(outbox) == 3
    assert [p.payload for p in await drain(outbox)] == [b"2", b"3", b"4"]
    assert outbox.dropped_events == 2
    assert "2 dropped so far" in caplog.records[-1].getMessage()


async def test_while_the_broker_is_away_states_are_dropped_before_events() -> None:
    outbox = offline(max_pending=3)
    outbox.put(state("s"))
    outbox.put(state("m", "b/metrics"))
    outbox.put(event(1))
    outbox.put(event(2))  # full: the oldest state goes, not an event
    outbox.put(event(3))  # full: the other state goes
    outbox.put(state("s2"))  # full of events: the state is not queued, but remembered
    assert [p.payload for p in await drain(outbox)] == [b"1", b"2", b"3"]
    assert (outbox.dropped_states, outbox.dropped_events) == (3, 0)
    assert state("s2") in outbox.take_retained(), "re-published on the next connect"


async def test_losing_the_connection_trims_the_queue_to_its_bound_states_first() -> None:
    outbox = Outbox(max_pending=3)
    outbox.set_connected(True)
    for item in (event(1), state("s"), event(2), event(3), event(4)):
        outbox.put(item)
    taken = await outbox.take()  # in flight when the connection goes
    outbox.set_connected(False)
    assert taken.payload == b"1" and len(outbox) == 3
    assert [p.payload for p in await drain(outbox)] == [b"2", b"3", b"4"]
    assert (outbox.dropped_states, outbox.dropped_events) == (1, 1)


async def test_a_newer_state_replaces_an_unsent_older_one_of_its_topic() -> None:
    outbox = Outbox(max_pending=2)
    outbox.set_connected(True)
    outbox.put(state("a"))
    outbox.put(event(1))
    outbox.put(state("b"))
    outbox.put(event(2))
    assert [p.payload for p in await drain(outbox)] == [b"1", b"b", b"2"]
    assert outbox.take_retained() == [state("b")]


async def test_a_state_in_flight_is_not_replaced_and_its_successor_follows() -> None:
    outbox = Outbox(max_pending=5)
    outbox.set_connected(True)
    outbox.put(state("a"))
    in_flight = await outbox.take()
    outbox.put(state("b"))
    outbox.done(in_flight)
    assert [p.payload for p in await drain(outbox)] == [b"b"]


async def test_several_in_flight_finish_in_any_order_and_a_lost_connection_requeues_them() -> None:
    outbox = Outbox(max_pending=5)
    outbox.set_connected(True)
    for n in range(4):
        outbox.put(event(n))
    first, second, third = [await outbox.take() for _ in range(3)]
    outbox.done(second)
    outbox.requeue()  # the connection went: what was not acknowledged goes again, in order
    assert [p.payload for p in await drain(outbox)] == [b"0", b"2", b"3"]
    assert first.payload == b"0" and third.payload == b"2"


async def test_take_retained_returns_the_latest_values_and_unqueues_their_copies() -> None:
    outbox = Outbox(max_pending=5)
    outbox.put(state("a"))
    outbox.put(Publication("ha/x/config", b"{}", retain=True), remember=False)
    outbox.put(event(1))
    assert outbox.take_retained() == [state("a")]
    # The not-remembered retained value and the event are still queued, in order.
    assert [p.topic for p in await drain(outbox)] == ["ha/x/config", "b/event/transcript"]
    assert outbox.take_retained() == [state("a")], "kept for the next reconnect"


async def test_take_waits_for_a_publication() -> None:
    outbox = Outbox(max_pending=1)
    waiter = asyncio.create_task(outbox.take())
    await asyncio.sleep(0)
    assert not waiter.done()
    outbox.put(event(7))
    assert (await asyncio.wait_for(waiter, 1)).payload == b"7"


async def test_room_waits_until_the_queue_is_below_its_bound() -> None:
    outbox = Outbox(max_pending=2)
    outbox.set_connected(True)
    outbox.put(event(1))
    await asyncio.wait_for(outbox.room(), 1)
    outbox.put(event(2))
    waiter = asyncio.create_task(outbox.room())
    await asyncio.sleep(0)
    assert not waiter.done(), "full: the command intake waits"
    outbox.done(await outbox.take())
    await asyncio.wait_for(waiter, 1)


async def test_flushed_waits_for_the_last_acknowledgement() -> None:
    outbox = Outbox(max_pending=2)
    outbox.put(event(1))
    waiter = asyncio.create_task(outbox.flushed())
    in_flight = await outbox.take()
    await asyncio.sleep(0)
    assert not waiter.done(), "taken is not yet published"
    outbox.done(in_flight)
    await asyncio.wait_for(waiter, 1)


@given(
    st.lists(st.one_of(st.integers(0, 99), st.sampled_from(["s1", "s2"])), max_size=60),
    st.booleans(),
)
def test_event_order_is_kept_and_the_bound_holds_while_offline(
    items: list[int | str], connected: bool
) -> None:
    outbox = Outbox(max_pending=4)
    outbox.set_connected(connected)
    for item in items:
        outbox.put(event(item) if isinstance(item, int) else state(item, f"b/{item}"))
        assert connected or len(outbox) <= 4
    queued = asyncio.run(drain(outbox))
    events = [p.payload for p in queued if not p.retain]
    expected = [str(i).encode() for i in items if isinstance(i, int)]
    assert events == expected[len(expected) - len(events) :]
    assert outbox.dropped_events == len(expected) - len(events)
    assert connected is False or outbox.dropped_events == 0


def call(n: int, expires_at: float) -> Publication:
    expiry = Expiry(at=expires_at, what=f"function call c{n} (set_light, deadline 8000 ms)")
    return Publication("b/event/function_call", str(n).encode(), retain=False, expiry=expiry)


async def test_a_call_past_its_deadline_is_dropped_counted_and_logged_when_taken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    outbox = Outbox(max_pending=10, clock=lambda: now[0])
    outbox.set_connected(False)
    outbox.put(call(1, expires_at=1008.0))  # queued at ts 1000 with an 8 s deadline
    outbox.put(event(2))
    outbox.put(call(3, expires_at=1012.0))  # 4 s later
    now[0] = 1009.5  # the broker came back 9.5 s after the first call
    outbox.set_connected(True)
    with caplog.at_level(logging.WARNING, logger="edge_voice.mqtt"):
        assert [p.payload for p in await drain(outbox)] == [b"2", b"3"]
    assert outbox.expired == 1 and outbox.dropped_events == 0
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "function call c1 (set_light, deadline 8000 ms)" in said[0]
    assert "expired 1.5 s ago" in said[0]
    await asyncio.wait_for(outbox.flushed(), 1)  # nothing left: a flush does not wait for it


async def test_while_the_broker_is_away_an_expired_call_makes_room_before_any_live_event() -> None:
    now = [0.0]
    outbox = Outbox(max_pending=3, clock=lambda: now[0])
    outbox.set_connected(False)
    outbox.put(event(1))
    outbox.put(call(2, expires_at=8.0))
    outbox.put(event(3))
    now[0] = 9.0
    outbox.put(event(4))  # full: the void call goes, not the oldest event
    assert (outbox.expired, outbox.dropped_events) == (1, 0)
    assert [p.payload for p in await drain(outbox)] == [b"1", b"3", b"4"]


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
