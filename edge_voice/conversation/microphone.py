"""The source task: every microphone frame is scored by the wake word, then routed by state.

Nothing here waits on the network: frames for the session go into the uplink's bounded queue,
and a wake word that needs the group's arbitration is claimed in a task of its own while the
following frames are scored and held.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Protocol

from edge_voice.config.audio_schema import AudioConfig
from edge_voice.conversation.states import Status, Trigger
from edge_voice.conversation.wake_evidence import RecentPower, WakeEvidence
from edge_voice.conversation.wake_profiles import profile_name
from edge_voice.events import WakeDetected

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)

#: Where the microphone streams to the session (AWAKE: held until the session is ready).
MIC_OPEN: Final = frozenset({Status.AWAKE, Status.LISTENING, Status.FOLLOW_UP})


def open_while_answering(audio: AudioConfig) -> bool:
    """The mic streams during the answer when echo is cancelled (by the system, or here)."""
    return audio.echo_cancelled or audio.echo_cancel != "none"


class Detection(Protocol):
    """A wake word detection."""

    @property
    def name(self) -> str: ...
    @property
    def score(self) -> float: ...


class WakeWord(Protocol):
    """The wake word engine: 80 ms frames of 16 kHz PCM16 in, detections out."""

    def process(self, frame: bytes) -> Sequence[Detection]: ...
    @property
    def last_scores(self) -> Mapping[str, float]: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


#: Claims the wake word in the group with (peak score, energy in dBFS): True if we answer.
Arbitrate = Callable[[float, float | None], Awaitable[bool]]


class Microphone:
    """Reads the source for the assistant: scores, routes, claims the wake word."""

    def __init__(
        self,
        assistant: Assistant,
        wake: WakeWord,
        arbitrate: Arbitrate | None = None,
    ) -> None:
        self.a = assistant
        self.wake = wake
        self._arbitrate = arbitrate
        self._claim: asyncio.Task[None] | None = None
        self._recent = RecentPower()
        #: The wake word being measured before its claim (its peak, its energy).
        self._evidence: tuple[Detection, WakeEvidence] | None = None

    async def listen(
        self, source: AsyncIterator[bytes], *, exit_on_eof: bool = False, keep_running: bool = False
    ) -> None:
        """The source task: every frame until the source ends (with exit_on_eof: and the
        conversation it started completed; with keep_running: then on until cancelled, so
        MQTT commands are still served), then close the assistant (uplink, downlink too)."""
        a = self.a
        a.publish_state()
        try:
            async for frame in source:
                if self._streaming():
                    # Send first, score after: the frame is on the socket before the wake
                    # word's ~5 ms of scoring, which only keeps the detector's stream unbroken.
                    a.uplink.put(frame)
                    await asyncio.sleep(0)  # the uplink task sends it now
                    self._score(frame)
                else:
                    self.on_frame(frame)
            a.source_ended = True
            log.info("audio source ended")
            self._submit()  # a wake word at the very end is claimed with what was heard
            if exit_on_eof or keep_running:
                if self._claim is not None:
                    await self._claim  # the last wake word's claim decides whether we answer
                await a.finish()
            if keep_running:
                log.info("conversation finished; still serving MQTT until stopped")
                await asyncio.Event().wait()  # until cancelled (SIGTERM)
        finally:
            a.machine.fire_if_possible(Trigger.STOP)  # so the last retained state is not stale
            await a.close()

    def on_frame(self, frame: bytes) -> None:
        """Score one 80 ms frame of 16 kHz PCM16, then route it; never waits."""
        a = self.a
        heard = self._score(frame)
        power = self._recent.add(frame)
        status = a.status
        if status is not Status.IDLE:
            self._evidence = None  # conversation/start came first: nothing to claim
        if status is Status.IDLE:
            if self._evidence is not None:
                a.uplink.put(frame)  # kept in case the group lets us answer
                self._measure(power)
            elif self._claim is not None:
                a.uplink.put(frame)  # kept in case the group lets us answer
            elif heard is not None:
                self._heard(heard)
        elif status in MIC_OPEN or open_while_answering(a.config.audio):
            a.uplink.put(frame)  # AWAKE: held until the session is ready
        elif heard is not None:  # mic gated while speaking: the wake word interrupts
            self._publish(heard)
            a.interrupt()

    def _streaming(self) -> bool:
        """Frames go to the session whatever the wake word hears (on_frame's second branch)."""
        status = self.a.status
        return status is not Status.IDLE and (
            status in MIC_OPEN or open_while_answering(self.a.config.audio)
        )

    def replace(self, wake: WakeWord) -> None:
        """Listen with another detector from now on; the old one is closed."""
        old, self.wake = self.wake, wake
        old.close()  # its interpreters are native memory: free them now

    def close(self) -> None:
        """Free the detector."""
        self.wake.close()

    def _score(self, frame: bytes) -> Detection | None:
        # Every frame, whatever the state: the detector hears one unbroken stream.
        detections = self.wake.process(frame)
        return max(detections, key=lambda d: d.score) if detections else None

    def _publish(self, detection: Detection) -> None:
        profile = profile_name(self.a.config, detection.name)
        self.a.bus.publish(
            WakeDetected(wakeword=detection.name, score=float(detection.score), profile=profile)
        )

    def _heard(self, detection: Detection) -> None:
        self._publish(detection)
        if self._arbitrate is None or self.a.config.wakeword.arbitration_group is None:
            self.a.begin(detection)
            return
        self.a.uplink.reset()
        # Claim with the peak, not this first crossing: keep scoring a few frames first.
        self._evidence = (detection, WakeEvidence(float(detection.score), self._recent.snapshot()))

    def _measure(self, power: float) -> None:
        assert self._evidence is not None
        detection, evidence = self._evidence
        evidence.add(power, float(self.wake.last_scores.get(detection.name, 0.0)))
        if evidence.done:
            self._submit()

    def _submit(self) -> None:
        """Claim the wake word being measured, if any, in a task of its own."""
        if self._evidence is None or self._arbitrate is None:
            return
        detection, evidence = self._evidence
        self._evidence = None
        peak, energy = evidence.peak, evidence.energy_dbfs
        log.info("wake word %s: peak %.3f, %.1f dBFS; claiming", detection.name, peak, energy)
        self._claim = self.a.spawn(self._claim_wake(self._arbitrate, detection, peak, energy))

    async def _claim_wake(
        self, arbitrate: Arbitrate, detection: Detection, peak: float, energy_dbfs: float
    ) -> None:
        """Ask the group (its window waits here, not in the source loop); answer if ours is best."""
        try:
            won = await arbitrate(peak, energy_dbfs)
        finally:
            self._claim = None
        if self.a.status is not Status.IDLE:
            return  # conversation/start came first: that conversation keeps what was held
        if won:
            self.a.begin(detection)
        else:
            log.info("another device heard the wake word better; staying idle")
            self.a.uplink.reset()
            profile = profile_name(self.a.config, detection.name)
            self.a.bus.publish(
                WakeDetected(
                    wakeword=detection.name, score=peak, profile=profile, event_type="yielded"
                )
            )
