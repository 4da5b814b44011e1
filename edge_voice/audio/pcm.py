"""PCM16 constants, sample-format conversion and fixed-size framing shared by sources and sinks."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

SOURCE_RATE: Final = 16_000
"""Sample rate of every audio source frame and of the wake word models, in hertz."""
API_RATE: Final = 24_000
"""Sample rate of the OpenAI Realtime API's PCM16 audio and of every sink, in hertz."""
SAMPLE_WIDTH: Final = 2
"""Bytes per sample: PCM16, little-endian, mono everywhere."""
FRAME_MS: Final = 80
"""Duration of one source frame: the frame openWakeWord consumes."""
FRAME_SAMPLES: Final = SOURCE_RATE * FRAME_MS // 1000
FRAME_BYTES: Final = FRAME_SAMPLES * SAMPLE_WIDTH
SILENCE_FRAME: Final = bytes(FRAME_BYTES)

Int16Array = npt.NDArray[np.int16]


def pcm_ms(n_bytes: int, rate: int) -> int:
    """Whole milliseconds of PCM16 mono audio in `n_bytes` at `rate`."""
    return n_bytes // SAMPLE_WIDTH * 1000 // rate


def to_mono_int16(raw: bytes, sample_width: int, channels: int) -> Int16Array:
    """Convert interleaved little-endian PCM (8/16/24/32-bit, any channel count) to mono int16."""
    if sample_width == 2:
        samples = np.frombuffer(raw, dtype="<i2")
    elif sample_width == 1:
        # 8-bit WAV is unsigned with its zero at 128.
        unsigned = np.frombuffer(raw, dtype=np.uint8).astype(np.int16)
        samples = ((unsigned - 128) << 8).astype(np.int16)
    elif sample_width == 3:
        # Keep the two most significant bytes of each 24-bit sample.
        triples = np.frombuffer(raw[: len(raw) - len(raw) % 3], dtype=np.uint8).reshape(-1, 3)
        samples = np.ascontiguousarray(triples[:, 1:]).view("<i2").reshape(-1)
    elif sample_width == 4:
        samples = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    else:
        raise ValueError(f"unsupported sample width: {sample_width} bytes")
    if channels == 1:
        return samples.astype(np.int16, copy=False)
    usable = len(samples) - len(samples) % channels
    frames = samples[:usable].reshape(-1, channels).astype(np.int32)
    mixed: Int16Array = (frames.sum(axis=1) // channels).astype(np.int16)
    return mixed


class Framer:
    """Re-chunks a byte stream into fixed-size frames, keeping the remainder between calls."""

    __slots__ = ("_buffer", "frame_bytes")

    def __init__(self, frame_bytes: int = FRAME_BYTES) -> None:
        self.frame_bytes = frame_bytes
        self._buffer = bytearray()

    def push(self, data: bytes | bytearray | memoryview) -> None:
        """Append audio to the pending buffer."""
        self._buffer += data

    def pop(self) -> bytes | None:
        """The next whole frame, or None when less than a frame is pending."""
        size = self.frame_bytes
        if len(self._buffer) < size:
            return None
        # One copy out of the buffer; a memoryview avoids the intermediate bytearray slice.
        with memoryview(self._buffer) as view:
            frame = bytes(view[:size])
        del self._buffer[:size]
        return frame

    def pop_padded(self) -> bytes | None:
        """The next frame, the remainder padded with silence if short (end of stream), or None."""
        if len(self._buffer) >= self.frame_bytes:
            return self.pop()
        if not self._buffer:
            return None
        frame = bytes(self._buffer[: self.frame_bytes]).ljust(self.frame_bytes, b"\x00")
        self._buffer.clear()
        return frame

    def __len__(self) -> int:
        return len(self._buffer)
