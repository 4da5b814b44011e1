"""Test signals at the Realtime API's rate (24 kHz PCM16 mono): a stand-in voice and silence."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from edge_voice.sim.audio_synth import SAMPLE_RATE


def speech_like(duration_s: float, *, level_dbfs: float = -20.0, seed: int = 0) -> bytes:
    """Input standing in for a user's voice: a tone plus noise at `level_dbfs` RMS."""
    n = int(duration_s * SAMPLE_RATE)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    signal = np.sin(2 * np.pi * 180.0 * t) + 0.5 * rng.standard_normal(n)
    return _to_pcm(_scale_rms(signal, level_dbfs))


def silence(duration_s: float, *, noise_dbfs: float | None = None, seed: int = 1) -> bytes:
    """Digital silence, or background noise at `noise_dbfs` RMS (a quiet room's mic)."""
    n = int(duration_s * SAMPLE_RATE)
    if noise_dbfs is None:
        return bytes(2 * n)
    rng = np.random.default_rng(seed)
    return _to_pcm(_scale_rms(rng.standard_normal(n), noise_dbfs))


def _scale_rms(signal: NDArray[np.float64], level_dbfs: float) -> NDArray[np.float64]:
    rms = float(np.sqrt(np.mean(signal * signal))) if signal.size else 0.0
    if rms == 0.0:
        return signal
    scaled: NDArray[np.float64] = signal * (10 ** (level_dbfs / 20) / rms)
    return scaled


def _to_pcm(signal: NDArray[np.float64]) -> bytes:
    clipped = np.clip(signal * 32767.0, -32768, 32767)
    return clipped.astype("<i2").tobytes()
