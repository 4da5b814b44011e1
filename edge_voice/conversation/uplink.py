"""The uplink: microphone frames to the realtime session through a bounded queue.

The source loop hands frames over with `put`, which never waits; the uplink task sends them in
order. While the session opens the queue holds what the user says right after the wake word
("hey jarvis, turn on the light" needs no pause). When the session takes audio slower than the
microphone gives it (a stalled websocket), the queue fills and the oldest frames are dropped:
counted in `dropped` and reported once per episode, not per frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final, Protocol

from edge_voice.audio.pcm import FRAME_MS
from edge_voice.audio.resample import upsampler
from edge_voice.conversation.error_codes import ConversationErrorCode
from edge_voice.realtime.errors import RealtimeError

log = logging.getLogger(__name__)

#: Frames the queue holds while the session opens or stalls.
QUEUE_FRAMES: Final = 125  # 10 s of 80 ms frames
#: The `ErrorOccurred` code of an episode of lost microphone audio.
AUDIO_DROPPED: Final = ConversationErrorCode.AUDIO_DROPPED


class AudioLink(Protocol):
    """Where the uplink sends (the assistant's ResilientSession)."""

    async def append_audio(self, pcm: bytes) -> None:
        """Stream 24 kHz PCM16 microphone audio."""


class Uplink:
    """Queues 16 kHz frames (upsampled to the API's 24 kHz) and streams them to the session."""

    def __init__(
        self,
        link: Callable[[], AudioLink | None],
        report: Callable[[str, str], None],
        *,
        queue_frames: int = QUEUE_FRAMES,
    ) -> None:
        self._link = link
        self._report = report
        # (turn, pcm): a frame of a turn that has ended is never sent; None ends run().
        self._frames: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue(queue_frames)
        self._upsampler = upsampler()
        self._turn = 0
        self._open = asyncio.Event()
        self._closed = False
        self._episode = 0
        self.dropped = 0
        """Frames lost over the uplink's life (queue full, or the session refused them)."""

    def put(self, frame: bytes) -> None:
        """Queue one microphone frame for the session; when the queue is full the oldest goes."""
        if self._closed:
            return
        if self._frames.full():
            self._frames.get_nowait()
            self._lost("the realtime session does not take audio as fast as the microphone")
        self._frames.put_nowait((self._turn, self._upsampler.process(frame)))

    def open(self) -> None:
        """The session is ready: send what is held, then each frame as it comes."""
        self._open.set()

    def reset(self) -> None:
        """A turn ended (or a new one may begin): forget held frames, hold new ones until `open`."""
        self._open.clear()
        self._turn += 1
        self._discard()
        self._upsampler.reset()
        self._caught_up()

    def restart_stream(self) -> None:
        """The microphone audio restarts after a gap (barge-in): do not blend it with the last."""
        self._upsampler.reset()

    def close(self) -> None:
        """End `run()`; frames still queued are not sent."""
        self._closed = True
        self._discard()
        self._frames.put_nowait(None)
        self._open.set()

    async def run(self) -> None:
        """The uplink task: send queued frames in order until `close()`."""
        while (item := await self._frames.get()) is not None:
            await self._open.wait()
            turn, pcm = item
            link = self._link()
            if self._closed or turn != self._turn or link is None:
                continue  # the turn ended (or the session went) while the frame waited
            try:
                await link.append_audio(pcm)
            except RealtimeError as exc:  # a drop: the downlink reconnects, this audio is gone
                self._lost(f"the realtime session refused it ({exc})")
                continue
            if self._frames.empty():
                self._caught_up()

    def _discard(self) -> None:
        while not self._frames.empty():
            self._frames.get_nowait()

    def _lost(self, reason: str) -> None:
        self.dropped += 1
        self._episode += 1
        if self._episode == 1:
            log.warning("uplink: dropping microphone audio: %s", reason)
            self._report(AUDIO_DROPPED, f"microphone audio lost: {reason}")

    def _caught_up(self) -> None:
        if self._episode:
            lost_s = self._episode * FRAME_MS / 1000
            log.warning(
                "uplink: %d frames (%.2f s) of microphone audio lost", self._episode, lost_s
            )
            self._episode = 0
