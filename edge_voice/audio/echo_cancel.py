"""Acoustic echo cancellation in the audio path: the answer the sink plays is removed from the mic.

The far end is what the sink has played (a `PlayoutTap`, at the rate it plays), resampled to
16 kHz and cut into one 80 ms block per microphone frame, so the canceller sees the reference of
the same stretch of time as the frame that holds its echo. The WebRTC canceller (AEC3, through
LiveKit's `AudioProcessingModule`, the optional `aec` extra) works on 10 ms pieces and finds the
remaining delay (the device's output latency, the room) itself.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any, Final, Literal, Protocol

import numpy as np

from edge_voice.audio.pcm import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_WIDTH, SOURCE_RATE, Int16Array
from edge_voice.audio.playout import PlayoutTap
from edge_voice.audio.resample import StreamResampler

EchoCancelMethod = Literal["none", "webrtc"]
#: 10 ms at 16 kHz: the only block size the WebRTC audio processing module takes.
APM_SAMPLES: Final = SOURCE_RATE // 100
APM_BYTES: Final = APM_SAMPLES * SAMPLE_WIDTH
EXTRA_HINT: Final = "pip install 'edge-voice[aec]' (LiveKit's WebRTC audio processing)"


class EchoCancelUnavailableError(ValueError):
    """The canceller asked for is not installed."""


class EchoCanceller(Protocol):
    """Removes the far end's echo from 80 ms frames of 16 kHz PCM16."""

    def process(self, near: bytes, far: Int16Array) -> bytes:
        """The mic frame without the echo of `far` (the 80 ms played over the same time)."""
        ...


class FarEnd:
    """What the sink played, as one 16 kHz block per microphone frame (silence when idle).

    Taken at the microphone's pace, 80 ms a frame. A frame period in which less was played
    (the device's callback came late) is made up with silence; what is then left over beyond
    `max_lag` (a frame) is dropped, so the reference never falls behind the echo it must
    precede by more than that, however the two clocks jitter.
    """

    def __init__(self, tap: PlayoutTap, *, max_lag: int = FRAME_SAMPLES) -> None:
        self.tap = tap
        self.max_lag = max_lag
        self._resampler = StreamResampler(tap.rate, SOURCE_RATE)
        self._buffer = np.zeros(0, dtype=np.int16)
        self.dropped = 0
        """Samples (16 kHz) dropped to keep the lag bounded."""

    def frame(self) -> Int16Array:
        """The next 80 ms of played audio; what was not played (yet) is silence."""
        played = self.tap.take()
        if played:
            fresh = self._resampler.process_array(np.frombuffer(played, dtype=np.int16))
            self._buffer = np.concatenate([self._buffer, fresh])
        block = self._buffer[:FRAME_SAMPLES]
        self._buffer = self._buffer[FRAME_SAMPLES:]
        if self._buffer.size > self.max_lag:
            self.dropped += self._buffer.size - self.max_lag
            self._buffer = self._buffer[-self.max_lag :]
        if block.size < FRAME_SAMPLES:
            block = np.concatenate([block, np.zeros(FRAME_SAMPLES - block.size, np.int16)])
        return block


def load_livekit_rtc() -> Any:
    """LiveKit's `rtc` module, or a clear error naming the extra."""
    try:
        return importlib.import_module("livekit.rtc")
    except ImportError as exc:
        raise EchoCancelUnavailableError(
            f"audio.echo_cancel: webrtc needs the livekit package: {EXTRA_HINT}"
        ) from exc


def check_available(method: EchoCancelMethod) -> None:
    """Raise EchoCancelUnavailableError if `method` cannot run here (config check, start-up)."""
    if method == "webrtc":
        load_livekit_rtc()


class WebRtcCanceller:
    """WebRTC AEC3 (with its high-pass filter) through LiveKit's AudioProcessingModule."""

    def __init__(self, *, noise_suppression: bool = False) -> None:
        self._rtc = load_livekit_rtc()
        # Gain control stays off: the wake word and the server VAD were tuned on raw levels.
        self._apm = self._rtc.AudioProcessingModule(
            echo_cancellation=True, high_pass_filter=True, noise_suppression=noise_suppression
        )

    def process(self, near: bytes, far: Int16Array) -> bytes:
        """Cancel 80 ms in eight 10 ms steps: reference first, then the mic piece it echoes in."""
        if len(near) != FRAME_BYTES or far.size != FRAME_SAMPLES:
            raise ValueError(f"one 80 ms frame each, got {len(near)} bytes, {far.size} samples")
        frame_cls = self._rtc.AudioFrame
        ref = far.astype("<i2").tobytes()
        out = bytearray()
        for start in range(0, FRAME_BYTES, APM_BYTES):
            piece = slice(start, start + APM_BYTES)
            self._apm.process_reverse_stream(frame_cls(ref[piece], SOURCE_RATE, 1, APM_SAMPLES))
            mic = frame_cls(near[piece], SOURCE_RATE, 1, APM_SAMPLES)
            self._apm.process_stream(mic)  # in place
            out += bytes(mic.data)
        return bytes(out)


def make_canceller(method: EchoCancelMethod) -> EchoCanceller | None:
    """The canceller for `method` (None for none)."""
    return WebRtcCanceller() if method == "webrtc" else None


async def cancel_echo(
    source: AsyncIterator[bytes], canceller: EchoCanceller, far: FarEnd
) -> AsyncIterator[bytes]:
    """The source's frames with the echo of what the sink played removed."""
    async for frame in source:
        yield canceller.process(frame, far.frame())
