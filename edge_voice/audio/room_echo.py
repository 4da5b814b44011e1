"""A simulated room for trying echo cancellation without a speaker and a microphone.

What the sink plays goes through an impulse response (a WAV: the room, speaker to mic, its
amplitude the loudness of the echo) and is added to the source's frames, as a speaker in the
same room would add it to a real microphone. With `audio.room_echo` a WAV source and a WAV sink
then show end to end whether the reply interrupts itself and whether speech over it interrupts.
"""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from edge_voice.audio.echo_cancel import FarEnd
from edge_voice.audio.pcm import SOURCE_RATE, to_mono_int16
from edge_voice.audio.resample import resample

#: Longer responses are cut: the tail past two seconds is far below any room's noise.
MAX_IR_S: Final = 2.0


def load_impulse_response(path: str | Path) -> NDArray[np.float64]:
    """A WAV impulse response at 16 kHz as floats (full scale 1.0); ValueError if unusable."""
    try:
        with wave.open(str(path), "rb") as wav:
            raw = wav.readframes(wav.getnframes())
            samples = to_mono_int16(raw, wav.getsampwidth(), wav.getnchannels())
            rate = wav.getframerate()
    except wave.Error as exc:
        raise ValueError(f"audio.room_echo {path}: not a PCM WAV file ({exc})") from exc
    ir = resample(samples, rate, SOURCE_RATE).astype(np.float64)[: int(MAX_IR_S * SOURCE_RATE)]
    if not ir.size or not np.any(ir):
        raise ValueError(f"audio.room_echo {path}: the impulse response is silent")
    return ir / 32768.0


class RoomEcho:
    """Streaming convolution (overlap-add) of the played audio with the room's response."""

    def __init__(self, impulse_response: NDArray[np.float64]) -> None:
        self.ir = impulse_response
        self._tail = np.zeros(impulse_response.size - 1)

    def add(self, near: bytes, far: NDArray[np.int16]) -> bytes:
        """The mic frame with the echo of `far` (the 80 ms played meanwhile) added, clipped."""
        wet = np.convolve(far.astype(np.float64), self.ir)
        n = far.size
        wet[: self._tail.size] += self._tail
        self._tail = wet[n:]
        mixed = np.frombuffer(near, dtype="<i2").astype(np.float64) + wet[:n]
        return np.clip(np.round(mixed), -32768, 32767).astype("<i2").tobytes()


async def add_room_echo(
    source: AsyncIterator[bytes], room: RoomEcho, far: FarEnd
) -> AsyncIterator[bytes]:
    """The source's frames with the room's echo of what the sink played added."""
    async for frame in source:
        yield room.add(frame, far.frame())
