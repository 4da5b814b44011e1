"""The frame source base: 80 ms PCM16 mono 16 kHz frames, silence padding, pacing, conversion."""

from __future__ import annotations

import asyncio
import math
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Final, Self

from edge_voice.audio.pcm import FRAME_MS, SILENCE_FRAME, SOURCE_RATE, Framer, Int16Array
from edge_voice.audio.resample import StreamResampler
from edge_voice.audio.timing import Pacer

FRAME_S: Final = FRAME_MS / 1000


class AudioSource(ABC):
    """An async iterator of 80 ms PCM16 mono 16 kHz frames; `aclose()` (or `async with`) ends it."""

    def __init__(self, *, pad_silence_s: float = 0.0, pacer: Pacer | None = None) -> None:
        if pad_silence_s < 0:
            raise ValueError("pad_silence_s must be >= 0")
        self._pad_frames = math.ceil(pad_silence_s / FRAME_S - 1e-9)
        self._pacer = pacer
        self._closed = False
        self.frames_read = 0
        """Frames yielded so far, silence padding included."""

    @property
    def description(self) -> str:
        """What this source reads, for logs."""
        return type(self).__name__

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        frame = await self._next_frame()
        if frame is None:
            if self._pad_frames <= 0:
                raise StopAsyncIteration
            # Lets the wake word and VAD see a clean end after the last word of a file.
            self._pad_frames -= 1
            frame = SILENCE_FRAME
        if self._pacer is not None:
            await self._pacer.wait()
        else:
            # A file read never suspends: give other tasks a turn on every frame.
            await asyncio.sleep(0)
        self.frames_read += 1
        return frame

    @abstractmethod
    async def _next_frame(self) -> bytes | None:
        """The next frame of real audio, or None at end of stream."""

    async def aclose(self) -> None:
        """Stop reading and release the device or file; iteration ends."""
        if not self._closed:
            self._closed = True
            await self._close()

    @abstractmethod
    async def _close(self) -> None:
        """Release resources (subclasses)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ConvertingSource(AudioSource):
    """A source whose raw chunks may need mono mixdown and resampling before framing."""

    def __init__(self, rate: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate
        self._resampler = StreamResampler(rate, SOURCE_RATE)
        self._framer = Framer()
        self._eof = False

    def _push(self, samples: Int16Array) -> None:
        self._framer.push(self._resampler.process_array(samples).tobytes())

    def _finish(self) -> None:
        self._eof = True
        self._framer.push(self._resampler.flush())

    async def _next_frame(self) -> bytes | None:
        while True:
            frame = self._framer.pop()
            if frame is not None:
                return frame
            if self._eof:
                return self._framer.pop_padded()
            await self._fill()

    @abstractmethod
    async def _fill(self) -> None:
        """Read one chunk into the framer, or call `_finish()` at end of stream."""
