"""Deterministic, cheap audio: the simulated assistant's "speech".

Everything is 24 kHz PCM16 little-endian mono, the only PCM rate the Realtime API speaks.
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 24_000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000


def speech_duration_ms(
    text: str,
    *,
    ms_per_char: float = 70.0,
    min_ms: int = 300,
    max_ms: int = 20_000,
    speed: float = 1.0,
) -> int:
    """How long the simulated voice takes to say `text` (proportional, bounded, sped up)."""
    base = min(max(len(text) * ms_per_char, float(min_ms)), float(max_ms))
    return int(base / max(speed, 0.01))


def synthesize(text: str, voice: str, duration_ms: int) -> bytes:
    """A voiced, syllable-modulated harmonic tone: looks like speech to a VAD and an ear.

    Seeded from the text and voice with crc32 (not hash(), which varies per process), so the
    same reply always gives the same bytes.
    """
    n = duration_ms * SAMPLE_RATE // 1000
    if n <= 0:
        return b""
    seed = zlib.crc32(f"{voice}\0{text}".encode())
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    f0 = 100.0 + (zlib.crc32(voice.encode()) % 120)
    pitch = f0 * (1.0 + 0.04 * np.sin(2 * np.pi * (0.7 + (seed % 7) / 10) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    # Harmonics weighted towards ~500-900 Hz: a crude first formant.
    wave = np.zeros(n)
    for k in range(1, 9):
        weight = 1.0 / (1.0 + abs(k * f0 - 700.0) / 300.0)
        wave += weight * np.sin(k * phase)
    syllable_hz = 4.0 + (seed % 5) / 5
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * syllable_hz * t)
    fade = min(n // 2, SAMPLE_RATE // 100)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        envelope[:fade] *= ramp
        envelope[-fade:] *= ramp[::-1]
    peak = float(np.max(np.abs(wave))) or 1.0
    return _to_pcm(0.3 * envelope * wave / peak)


def chunks(pcm: bytes, chunk_ms: int) -> list[bytes]:
    """Split PCM into chunks of `chunk_ms` (the last may be shorter)."""
    size = max(2, chunk_ms * BYTES_PER_MS)
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def _to_pcm(signal: NDArray[np.float64]) -> bytes:
    clipped = np.clip(signal * 32767.0, -32768, 32767)
    return clipped.astype("<i2").tobytes()
