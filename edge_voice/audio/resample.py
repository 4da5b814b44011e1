"""Streaming and one-shot PCM16 mono resampling (16 kHz ⇄ 24 kHz and device rates) with soxr."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import soxr

from edge_voice.audio.pcm import API_RATE, SOURCE_RATE, Int16Array

QUALITY: Final = "HQ"
_EMPTY: Final[Int16Array] = np.zeros(0, dtype=np.int16)


class StreamResampler:
    """Resamples a PCM16 mono stream chunk by chunk, keeping the filter state between chunks."""

    def __init__(self, in_rate: int, out_rate: int, *, quality: str = QUALITY) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} → {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        # soxr works on int16 directly, so no float round trip per chunk; equal rates pass
        # through untouched so the 16 kHz hot path costs nothing.
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality=quality)
        )

    @property
    def passthrough(self) -> bool:
        """True when input and output rates are equal and chunks are returned as they are."""
        return self._stream is None

    def process_array(self, samples: Int16Array, *, last: bool = False) -> Int16Array:
        """Resample int16 samples; `last=True` flushes the filter's tail (end of stream)."""
        if self._stream is None:
            return samples
        out: Int16Array = self._stream.resample_chunk(samples, last=last)
        return out

    def process(self, pcm: bytes) -> bytes:
        """Resample a chunk of PCM16 bytes; output length varies by the filter's delay."""
        if self._stream is None:
            return pcm
        return self.process_array(np.frombuffer(pcm, dtype=np.int16)).tobytes()

    def flush(self) -> bytes:
        """The samples still held by the filter, at end of stream."""
        if self._stream is None:
            return b""
        return self.process_array(_EMPTY, last=True).tobytes()

    def pending_output(self) -> int:
        """Output samples the filter holds back (its delay), released by later input or flush."""
        return 0 if self._stream is None else math.ceil(self._stream.delay())

    def reset(self) -> None:
        """Forget pending samples (e.g. after a barge-in) without rebuilding the filter."""
        if self._stream is not None:
            self._stream.clear()


def upsampler() -> StreamResampler:
    """A streaming resampler from source frames (16 kHz) to the Realtime API rate (24 kHz)."""
    return StreamResampler(SOURCE_RATE, API_RATE)


def downsampler() -> StreamResampler:
    """A streaming resampler from the Realtime API rate (24 kHz) to the source rate (16 kHz)."""
    return StreamResampler(API_RATE, SOURCE_RATE)


def resample(samples: Int16Array, in_rate: int, out_rate: int) -> Int16Array:
    """Resample a whole int16 signal at once (files, test fixtures)."""
    if in_rate == out_rate:
        return samples
    out: Int16Array = soxr.resample(samples, in_rate, out_rate, quality=QUALITY)
    return out


def resample_bytes(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample whole PCM16 mono bytes at once."""
    if in_rate == out_rate:
        return pcm
    return resample(np.frombuffer(pcm, dtype=np.int16), in_rate, out_rate).tobytes()
