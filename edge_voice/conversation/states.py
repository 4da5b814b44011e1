"""The conversation state machine: idle → awake → listening → responding → follow-up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

log = logging.getLogger(__name__)


class Status(StrEnum):
    """What the assistant is doing (the `status` of the retained state)."""

    IDLE = "idle"  # listening for the wake word only
    AWAKE = "awake"  # wake word heard, opening the session
    LISTENING = "listening"  # streaming the user's speech
    RESPONDING = "responding"  # the model answers (and calls functions)
    FOLLOW_UP = "follow_up"  # after an answer: speech without the wake word continues


class Trigger(StrEnum):
    """What happened."""

    WAKE = "wake"  # wake word, or conversation/start
    CONNECTED = "connected"
    CONNECT_FAILED = "connect_failed"
    RESPONSE_STARTED = "response_started"
    ANSWERED = "answered"  # response done, played out, no call pending
    BARGE_IN = "barge_in"
    SPEECH = "speech"  # the user started speaking
    TIMEOUT = "timeout"  # nobody spoke in time
    STOP = "stop"  # conversation/stop, end_conversation, a fatal error
    ANNOUNCE = "announce"  # `say`: speak an announcement from idle


_S, _T = Status, Trigger
TRANSITIONS: dict[tuple[Status, Trigger], Status] = {
    (_S.IDLE, _T.WAKE): _S.AWAKE,
    (_S.IDLE, _T.ANNOUNCE): _S.RESPONDING,  # connecting, then speaking (mic gated)
    (_S.AWAKE, _T.CONNECTED): _S.LISTENING,
    (_S.AWAKE, _T.CONNECT_FAILED): _S.IDLE,
    (_S.LISTENING, _T.SPEECH): _S.LISTENING,
    (_S.LISTENING, _T.RESPONSE_STARTED): _S.RESPONDING,
    (_S.LISTENING, _T.TIMEOUT): _S.IDLE,
    (_S.RESPONDING, _T.RESPONSE_STARTED): _S.RESPONDING,  # the answer after a function call
    (_S.RESPONDING, _T.ANSWERED): _S.FOLLOW_UP,
    (_S.RESPONDING, _T.BARGE_IN): _S.LISTENING,
    (_S.FOLLOW_UP, _T.SPEECH): _S.LISTENING,
    (_S.FOLLOW_UP, _T.RESPONSE_STARTED): _S.RESPONDING,
    (_S.FOLLOW_UP, _T.WAKE): _S.LISTENING,
    (_S.FOLLOW_UP, _T.TIMEOUT): _S.IDLE,
    (_S.RESPONDING, _T.WAKE): _S.LISTENING,  # the wake word while it speaks: barge-in
}
#: Every state can be stopped; listed here so the table above stays about the happy path.
for _status in Status:
    TRANSITIONS.setdefault((_status, Trigger.STOP), Status.IDLE)


class InvalidTransition(Exception):
    """A trigger that means nothing in the current state."""


class ConversationStateMachine:
    """Holds the status; every change goes through `fire` and is reported to the listener."""

    def __init__(self, on_change: Callable[[Status, Status, Trigger], None] | None = None) -> None:
        self.status = Status.IDLE
        self._on_change = on_change

    def can(self, trigger: Trigger) -> bool:
        """Whether `trigger` is meaningful now."""
        return (self.status, trigger) in TRANSITIONS

    def fire(self, trigger: Trigger) -> Status:
        """Apply `trigger`; InvalidTransition if it means nothing in this state."""
        new = TRANSITIONS.get((self.status, trigger))
        if new is None:
            raise InvalidTransition(f"{trigger.value} in state {self.status.value}")
        old, self.status = self.status, new
        if old is not new:
            log.info("state %s → %s (%s)", old.value, new.value, trigger.value)
            if self._on_change is not None:
                self._on_change(old, new, trigger)
        return new

    def fire_if_possible(self, trigger: Trigger) -> bool:
        """Apply `trigger` when meaningful; False (and nothing changes) otherwise."""
        if not self.can(trigger):
            return False
        self.fire(trigger)
        return True
