"""The conversation state machine: the happy path, barge-in, timeouts, stop from anywhere."""

from __future__ import annotations

import pytest

from edge_voice.conversation.playback import PlaybackTracker
from edge_voice.conversation.states import (
    TRANSITIONS,
    ConversationStateMachine,
    InvalidTransition,
    Status,
    Trigger,
)


def run(*triggers: Trigger) -> tuple[ConversationStateMachine, list[tuple[str, str, str]]]:
    seen: list[tuple[str, str, str]] = []
    machine = ConversationStateMachine(lambda o, n, t: seen.append((o.value, n.value, t.value)))
    for trigger in triggers:
        machine.fire(trigger)
    return machine, seen


def test_wake_answer_follow_up_and_back_to_idle() -> None:
    machine, seen = run(
        Trigger.WAKE,
        Trigger.CONNECTED,
        Trigger.RESPONSE_STARTED,
        Trigger.ANSWERED,
        Trigger.SPEECH,
        Trigger.RESPONSE_STARTED,
        Trigger.ANSWERED,
        Trigger.TIMEOUT,
    )
    assert machine.status is Status.IDLE
    assert [n for _, n, _ in seen] == [
        "awake",
        "listening",
        "responding",
        "follow_up",
        "listening",
        "responding",
        "follow_up",
        "idle",
    ]


def test_barge_in_returns_to_listening() -> None:
    machine, _ = run(Trigger.WAKE, Trigger.CONNECTED, Trigger.RESPONSE_STARTED, Trigger.BARGE_IN)
    assert machine.status is Status.LISTENING


def test_function_call_keeps_responding() -> None:
    machine, seen = run(
        Trigger.WAKE, Trigger.CONNECTED, Trigger.RESPONSE_STARTED, Trigger.RESPONSE_STARTED
    )
    assert machine.status is Status.RESPONDING
    assert len(seen) == 3  # no duplicate state publication for a self-transition


@pytest.mark.parametrize("status", list(Status))
def test_stop_works_from_every_state(status: Status) -> None:
    machine = ConversationStateMachine()
    machine.status = status
    machine.fire(Trigger.STOP)
    assert machine.status is Status.IDLE


def test_meaningless_trigger_is_refused_and_changes_nothing() -> None:
    machine = ConversationStateMachine()
    with pytest.raises(InvalidTransition, match="answered in state idle"):
        machine.fire(Trigger.ANSWERED)
    assert machine.status is Status.IDLE
    assert machine.fire_if_possible(Trigger.BARGE_IN) is False


def test_every_state_is_reachable_and_left() -> None:
    targets = set(TRANSITIONS.values())
    sources = {s for s, _ in TRANSITIONS}
    assert targets == sources == set(Status)


def test_truncation_is_clamped_to_what_was_received() -> None:
    tracker = PlaybackTracker()
    assert tracker.truncation(500) is None  # nothing received: nothing to truncate
    assert tracker.audio("item_1", 48 * 300) is True
    assert tracker.audio("item_1", 48 * 200) is False
    assert tracker.received_ms == 500
    assert tracker.truncation(0).audio_end_ms == 1  # type: ignore[union-attr]  # never 0 ms
    assert tracker.truncation(320).audio_end_ms == 320  # type: ignore[union-attr]
    assert tracker.truncation(10_000).audio_end_ms == 500  # type: ignore[union-attr]  # never past
    assert tracker.audio("item_2", 48) is True
    assert tracker.truncation(5).item_id == "item_2"  # type: ignore[union-attr]
