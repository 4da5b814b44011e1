"""Audio sources: async iterators of 80 ms PCM16 mono 16 kHz frames from a mic, a WAV or stdin.

Every source yields `bytes` of exactly `FRAME_BYTES` (1280 samples), the frame openWakeWord
consumes. Frames are passed on as they are read: at 16 kHz mono nothing is copied or re-encoded
after the read (the microphone copies once out of PortAudio's buffer, which it must).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from pathlib import Path
from typing import Any, Final

import numpy as np

from edge_voice.audio.device import (
    AudioUnavailableError,
    choose_rate,
    load_sounddevice,
    parse_device,
)
from edge_voice.audio.pcm import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, SOURCE_RATE, to_mono_int16
from edge_voice.audio.source_base import FRAME_S, AudioSource, ConvertingSource
from edge_voice.audio.stdin_source import StdinSource
from edge_voice.audio.timing import Clock, Pacer, Sleep

__all__ = [
    "SOURCE_SPECS",
    "AudioSource",
    "MicSource",
    "StdinSource",
    "WavSource",
    "check_source_spec",
    "parse_source",
]

_LOGGER = logging.getLogger(__name__)

SOURCE_SPECS: Final = "mic[:DEVICE], wav:PATH, stdin[:RATE]"


class WavSource(ConvertingSource):
    """Reads a PCM WAV file; any rate, channel count or width is converted to 16 kHz mono."""

    def __init__(
        self,
        path: str | Path,
        *,
        fast: bool = False,
        pad_silence_s: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.path = Path(path)
        try:
            self._wav = wave.open(str(self.path), "rb")  # noqa: SIM115 - closed in _close
        except wave.Error as exc:
            raise ValueError(
                f"{self.path}: not a PCM WAV file ({exc}); convert it with "
                f"`sox {self.path.name} -b 16 out.wav`"
            ) from exc
        self.channels = self._wav.getnchannels()
        self.sample_width = self._wav.getsampwidth()
        try:
            super().__init__(
                self._wav.getframerate(),
                pad_silence_s=pad_silence_s,
                pacer=None if fast else Pacer(FRAME_S, clock=clock, sleep=sleep),
            )
        except ValueError:
            self._wav.close()
            raise
        self.native = (self.rate, self.channels, self.sample_width) == (SOURCE_RATE, 1, 2)
        self._chunk_frames = max(1, self.rate * FRAME_MS // 1000)

    @property
    def description(self) -> str:
        """The file and its format."""
        return f"wav:{self.path} ({self.rate} Hz, {self.channels} ch, {8 * self.sample_width} bit)"

    @property
    def duration_s(self) -> float:
        """Length of the file's audio, without padding."""
        return self._wav.getnframes() / self.rate

    async def _next_frame(self) -> bytes | None:
        if not self.native:
            return await super()._next_frame()
        # Already 16 kHz mono PCM16: the bytes read are the frame.
        raw = self._wav.readframes(FRAME_SAMPLES)
        if len(raw) == FRAME_BYTES:
            return raw
        return raw.ljust(FRAME_BYTES, b"\x00") if raw else None

    async def _fill(self) -> None:
        raw = self._wav.readframes(self._chunk_frames)
        if not raw:
            self._finish()
            return
        self._push(to_mono_int16(raw, self.sample_width, self.channels))

    async def _close(self) -> None:
        self._wav.close()


class MicSource(ConvertingSource):
    """A PortAudio input device via sounddevice (optional `audio` extra), opened on first read."""

    def __init__(self, device: str | int | None = None, *, max_queued_frames: int = 50) -> None:
        self._sd = load_sounddevice("input")
        self.device = parse_device(device) if isinstance(device, str) else device
        super().__init__(choose_rate(self._sd, "input", self.device, SOURCE_RATE))
        self._blocksize = self.rate * FRAME_MS // 1000
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=max_queued_frames)
        self._stream: Any = None
        self.overflows = 0
        """Blocks dropped because the consumer fell behind (oldest first)."""

    @property
    def description(self) -> str:
        """The device and its rate."""
        device = "default device" if self.device is None else repr(self.device)
        return f"mic ({device}, {self.rate} Hz)"

    def _open(self) -> None:
        loop = asyncio.get_running_loop()

        # PortAudio's thread: the only place a thread touches audio. It copies the block (the
        # buffer is reused) and hands it to the loop; the queue itself is only used in the loop.
        def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                loop.call_soon_threadsafe(self._deliver, bytes(indata), bool(status))

        def finished() -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver_end)

        try:
            self._stream = self._sd.RawInputStream(
                samplerate=self.rate,
                blocksize=self._blocksize,
                device=self.device,
                channels=1,
                dtype="int16",
                callback=callback,
                finished_callback=finished,
            )
            self._stream.start()
        except self._sd.PortAudioError as exc:
            raise AudioUnavailableError(f"cannot open microphone {self.device!r}: {exc}") from exc

    def _deliver(self, block: bytes, overflowed: bool) -> None:
        if overflowed:
            _LOGGER.debug("microphone reported an input overflow")
        if self._queue.full():
            self._queue.get_nowait()
            self.overflows += 1
            if self.overflows in (1, 10) or self.overflows % 100 == 0:
                _LOGGER.warning("audio consumer is behind: %d mic blocks dropped", self.overflows)
        self._queue.put_nowait(block)

    def _deliver_end(self) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def _next_frame(self) -> bytes | None:
        if self._stream is None:
            self._open()
        if self._resampler.passthrough:
            block = await self._queue.get()
            if block is None:
                self._stream_ended()
            return block
        return await super()._next_frame()

    async def _fill(self) -> None:
        block = await self._queue.get()
        if block is None:
            self._stream_ended()
            self._finish()
            return
        self._push(np.frombuffer(block, dtype=np.int16))

    def _stream_ended(self) -> None:
        if not self._closed:
            raise AudioUnavailableError(f"microphone {self.description} stopped unexpectedly")

    async def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)  # wakes a reader blocked in get()


def check_source_spec(spec: str) -> tuple[str, str]:
    """(kind, argument) of a valid source spec, else ValueError; opens nothing (config checks)."""
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "wav" and not arg:
        raise ValueError(f"source {spec!r}: wav needs a path, e.g. wav:request.wav")
    if kind == "stdin" and arg and not arg.strip().isdigit():
        raise ValueError(f"source {spec!r}: stdin takes a sample rate, e.g. stdin:16000")
    if kind not in ("mic", "wav", "stdin"):
        raise ValueError(f"unknown audio source {spec!r}; expected one of: {SOURCE_SPECS}")
    return kind, arg


def parse_source(spec: str, *, fast: bool = False, pad_silence_s: float = 0.0) -> AudioSource:
    """Build a source from `mic[:DEVICE]`, `wav:PATH` or `stdin[:RATE]`."""
    kind, arg = check_source_spec(spec)
    if kind == "mic":
        return MicSource(parse_device(arg))
    if kind == "wav":
        return WavSource(arg, fast=fast, pad_silence_s=pad_silence_s)
    return StdinSource(int(arg) if arg else SOURCE_RATE, pad_silence_s=pad_silence_s)
