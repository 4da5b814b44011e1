"""Energy-based voice activity detection on 24 kHz PCM16 mono, as the simulator's server VAD.

Pure and synchronous: feed bytes, get speech start/stop events with positions in milliseconds
since the first byte fed. No I/O, no clock; the positions come from the sample count alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 24_000
BYTES_PER_SAMPLE = 2
BYTES_PER_MS = SAMPLE_RATE * BYTES_PER_SAMPLE // 1000

#: Floor for the level of digital silence, so log10(0) never happens.
SILENCE_DBFS = -120.0


@dataclass(frozen=True)
class VadParams:
    """Tuning of the detector; the session's turn_detection supplies the last three."""

    threshold_dbfs: float = -40.0
    frame_ms: int = 20
    # A click or a door knock is shorter than this; a syllable is longer.
    min_speech_ms: int = 60
    silence_duration_ms: int = 500
    prefix_padding_ms: int = 300
    sample_rate: int = SAMPLE_RATE


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began; `audio_start_ms` already includes the prefix padding."""

    audio_start_ms: int
    onset_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    """Speech ended; like the real service, `audio_end_ms` includes the trailing silence."""

    audio_end_ms: int


VadEvent = SpeechStarted | SpeechStopped


def rms_dbfs(samples: NDArray[np.int16]) -> float:
    """RMS level of int16 samples in dB relative to full scale (a full-scale square is 0)."""
    if samples.size == 0:
        return SILENCE_DBFS
    x = samples.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(x * x)))
    if rms <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms))


def threshold_to_dbfs(threshold: float, base_dbfs: float = -40.0) -> float:
    """Map the API's 0..1 `threshold` (default 0.5) onto dBFS: 0.5 → base, each 0.1 → 4 dB."""
    return base_dbfs + (threshold - 0.5) * 40.0


class EnergyVad:
    """Streaming detector: a frame is voiced when its RMS reaches the threshold."""

    def __init__(self, params: VadParams | None = None) -> None:
        self.params = params or VadParams()
        self._frame_samples = self.params.sample_rate * self.params.frame_ms // 1000
        self._pending = b""
        self._frames = 0
        self._voiced_run = 0
        self._silent_run = 0
        self._in_speech = False
        # Padding never reaches back past audio that an earlier turn already used.
        self._floor_ms = 0

    @property
    def in_speech(self) -> bool:
        """Whether the detector is inside an utterance."""
        return self._in_speech

    @property
    def position_ms(self) -> int:
        """Milliseconds of audio analysed so far (whole frames only)."""
        return self._frames * self.params.frame_ms

    def reset(self) -> None:
        """Forget any utterance in progress; later padding starts no earlier than now."""
        self._voiced_run = 0
        self._silent_run = 0
        self._in_speech = False
        self._floor_ms = self.position_ms

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """Analyse more PCM16 little-endian mono audio; return the events it completes."""
        data = self._pending + pcm
        frame_bytes = self._frame_samples * BYTES_PER_SAMPLE
        whole = len(data) - len(data) % frame_bytes
        self._pending = data[whole:]
        if whole == 0:
            return []
        frames = np.frombuffer(data[:whole], dtype="<i2").reshape(-1, self._frame_samples)
        events: list[VadEvent] = []
        for frame in frames:
            event = self._step(rms_dbfs(frame) >= self.params.threshold_dbfs)
            if event is not None:
                events.append(event)
        return events

    def _step(self, voiced: bool) -> VadEvent | None:
        p = self.params
        self._frames += 1
        end_ms = self.position_ms
        if not self._in_speech:
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run * p.frame_ms < p.min_speech_ms:
                return None
            self._in_speech = True
            self._silent_run = 0
            onset_ms = end_ms - self._voiced_run * p.frame_ms
            start_ms = max(self._floor_ms, onset_ms - p.prefix_padding_ms)
            return SpeechStarted(audio_start_ms=start_ms, onset_ms=onset_ms)
        self._silent_run = 0 if voiced else self._silent_run + 1
        if self._silent_run * p.frame_ms < p.silence_duration_ms:
            return None
        self._in_speech = False
        self._voiced_run = 0
        self._floor_ms = end_ms
        return SpeechStopped(audio_end_ms=end_ms)
