"""Probable false wakes: a wake word, then no speech before `wakeword.no_speech_timeout_s`.

Such a conversation ends quietly: nothing was asked of the model (no `response.create`), so
nothing is billed; it is counted (`metrics.false_wakes_*`, the cost ledger keeps the count) and
announced as `event/wake` with `event_type: "false_wake"`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_voice.conversation.states import Status, Trigger
from edge_voice.conversation.wake_profiles import profile_name
from edge_voice.events import WakeDetected

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant


class FalseWakeWatch:
    """Watches the first listening of a conversation the wake word started."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self._wakeword: str | None = None
        self._score = 0.0
        self._awaiting = False

    def woke(self, wakeword: str | None, score: float = 0.0) -> None:
        """A conversation begins: by `wakeword`, or without one (conversation/start)."""
        self._wakeword, self._score = wakeword, score
        self._awaiting = False

    def speech(self) -> None:
        """The user started speaking: not a false wake."""
        self._awaiting = False

    def listen_timeout_s(self, trigger: Trigger) -> float:
        """How long the LISTENING state just entered waits for speech (or for the answer)."""
        self._awaiting = trigger is Trigger.CONNECTED and self._wakeword is not None
        if self._awaiting:
            return self.a.config.wakeword.no_speech_timeout_s
        return self.a.listen_timeout_s

    def changed(self, old: Status, new: Status, trigger: Trigger) -> None:
        """A state change: count the false wake when the first listening timed out."""
        if self._awaiting and old is Status.LISTENING and trigger is Trigger.TIMEOUT:
            self._count()
        if new is not Status.LISTENING:
            self._awaiting = False

    def _count(self) -> None:
        a, wakeword = self.a, self._wakeword
        assert wakeword is not None
        a.metrics.false_wake(wakeword)
        a.bus.publish(
            WakeDetected(
                wakeword=wakeword,
                score=self._score,
                profile=profile_name(a.config, wakeword),
                event_type="false_wake",
            )
        )
