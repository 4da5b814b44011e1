"""Baseline echo cancellers the WebRTC one is compared with: plain NLMS, and speexdsp if built.

Time-domain normalised LMS on the 16 kHz reference, with a Geigel double-talk detector that
freezes adaptation while the near end talks. Bench only: the service uses WebRTC's AEC3.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from edge_voice.audio.pcm import FRAME_BYTES, FRAME_SAMPLES, SOURCE_RATE


class NlmsCanceller:
    """NLMS with `taps` coefficients (64 ms at 16 kHz by default); same API as the service's."""

    def __init__(self, taps: int = 1024, mu: float = 0.3, geigel: float = 0.5) -> None:
        self.taps = taps
        self.w = np.zeros(taps)
        self.mu = mu
        self.geigel = geigel
        # The reference history twice over, newest first from _pos: a window is one slice.
        self._x = np.zeros(2 * taps)
        self._pos = 0
        self._energy = 0.0

    def process(self, near: bytes, far: NDArray[np.int16]) -> bytes:
        """The mic frame minus the filter's estimate of the echo of `far`."""
        if len(near) != FRAME_BYTES or far.size != FRAME_SAMPLES:
            raise ValueError("one 80 ms frame each")
        d = np.frombuffer(near, dtype="<i2").astype(np.float64) / 32768.0
        x_new = far.astype(np.float64) / 32768.0
        out = np.empty(FRAME_SAMPLES)
        w, buf, taps = self.w, self._x, self.taps
        for n in range(FRAME_SAMPLES):
            p = self._pos = (self._pos - 1) % taps
            old = buf[p + taps]  # the sample leaving the window
            buf[p] = buf[p + taps] = x_new[n]
            x = buf[p : p + taps]
            self._energy = max(0.0, self._energy + x_new[n] ** 2 - old**2)
            e = d[n] - float(w @ x)
            out[n] = e
            # Geigel: a near sample louder than half the recent reference peak is the user.
            if abs(d[n]) < self.geigel * self._peak(x):
                w += (self.mu * e / (self._energy + 1e-6)) * x
        return np.clip(np.round(out * 32768.0), -32768, 32767).astype("<i2").tobytes()

    @staticmethod
    def _peak(x: NDArray[np.float64]) -> float:
        return float(np.max(np.abs(x[:256])))


class SpeexCanceller:
    """speexdsp's MDF echo canceller (the `speexdsp` package, built on libspeexdsp-dev)."""

    def __init__(self, filter_ms: int = 256) -> None:
        from speexdsp import EchoCanceller  # type: ignore[import-not-found]  # optional

        self._ec = EchoCanceller.create(160, SOURCE_RATE * filter_ms // 1000, SOURCE_RATE)

    def process(self, near: bytes, far: NDArray[np.int16]) -> bytes:
        """The mic frame through speex, in 10 ms steps."""
        ref = far.astype("<i2").tobytes()
        return b"".join(
            self._ec.process(near[i : i + 320], ref[i : i + 320]) for i in range(0, len(near), 320)
        )
