"""What a sink has actually played, handed to whoever needs the far end (the echo canceller).

A `PlayoutTap` is a bounded FIFO of PCM16 mono audio at the rate the sink plays it. The sink
pushes each piece at the moment it is played (PortAudio's callback, or the simulated device's
position); the reader takes it, in order, once per microphone frame. Thread-safe: the speaker
pushes from PortAudio's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

from edge_voice.audio.pcm import SAMPLE_WIDTH

#: Far-end audio kept for a reader that stopped reading (oldest dropped): two seconds.
MAX_TAP_S: Final = 2.0


class PlayoutTap:
    """Played audio, oldest first, at `rate`; never holds more than `max_s` seconds."""

    def __init__(
        self, rate: int, *, max_s: float = MAX_TAP_S, before_take: Callable[[], None] | None = None
    ) -> None:
        self.rate = rate
        # A simulated device's position moves with the clock: it is read when the tap is.
        self._before_take = before_take
        self._max_bytes = int(rate * max_s) * SAMPLE_WIDTH
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self.dropped = 0
        """Samples dropped because nobody read them in time."""

    def push(self, pcm: bytes | bytearray | memoryview) -> None:
        """Append audio that has just been played."""
        with self._lock:
            self._buffer += pcm
            excess = len(self._buffer) - self._max_bytes
            if excess > 0:
                excess += excess % SAMPLE_WIDTH
                del self._buffer[:excess]
                self.dropped += excess // SAMPLE_WIDTH

    def take(self) -> bytes:
        """Everything played since the last call (may be empty)."""
        if self._before_take is not None:
            self._before_take()
        with self._lock:
            out = bytes(self._buffer)
            self._buffer.clear()
        return out


class PlayoutTaps:
    """The taps of one sink; pushing to none costs nothing."""

    def __init__(self) -> None:
        self._taps: list[PlayoutTap] = []

    def add(self, rate: int, before_take: Callable[[], None] | None = None) -> PlayoutTap:
        """A new tap that sees everything played from now on."""
        tap = PlayoutTap(rate, before_take=before_take)
        self._taps.append(tap)
        return tap

    def __bool__(self) -> bool:
        return bool(self._taps)

    def push(self, pcm: bytes | bytearray | memoryview) -> None:
        """Hand played audio to every tap."""
        for tap in self._taps:
            tap.push(pcm)
