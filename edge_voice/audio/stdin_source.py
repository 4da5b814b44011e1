"""Raw PCM16 from standard input (or any fd): a pipe, a redirected file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
from typing import Final

import numpy as np

from edge_voice.audio.device import AudioUnavailableError
from edge_voice.audio.pcm import FRAME_BYTES, FRAME_MS, SAMPLE_WIDTH, SOURCE_RATE
from edge_voice.audio.source_base import ConvertingSource

#: What to do about a stdin without audio (systemd gives services /dev/null).
PIPE_HINT: Final = (
    "pipe PCM16 mono into it, e.g. `arecord -r 16000 -f S16_LE -c 1 -t raw | "
    "edge-voice run --source stdin`, or use --source mic (a systemd service's stdin is /dev/null)"
)


def _pollable(fd: int) -> bool:
    """Whether the event loop can wait on `fd`: pipes, sockets and ttys, not files or /dev/null."""
    with selectors.DefaultSelector() as selector:
        try:
            selector.register(fd, selectors.EVENT_READ)
        except (PermissionError, ValueError):  # epoll refuses files and /dev/null
            return False
    return True


class StdinSource(ConvertingSource):
    """Raw little-endian PCM16 mono from standard input (or any fd) at `rate`, 16 kHz by default.

    A pipe paces itself (`arecord -r 16000 -f S16_LE -c 1 -t raw | edge-voice run --source stdin`);
    a redirected file is read as fast as the consumer takes it.
    """

    def __init__(self, rate: int = SOURCE_RATE, *, fd: int = 0, pad_silence_s: float = 0.0) -> None:
        super().__init__(rate, pad_silence_s=pad_silence_s)
        self.fd = fd
        self._chunk_bytes = max(1, rate * FRAME_MS // 1000) * SAMPLE_WIDTH
        self._reader: asyncio.StreamReader | None = None
        self._transport: asyncio.ReadTransport | None = None
        self._opened = False
        self._was_blocking = True
        self._got_audio = False

    @property
    def description(self) -> str:
        """The fd and its rate."""
        return f"stdin (fd {self.fd}, PCM16 mono {self.rate} Hz)"

    async def _open(self) -> None:
        try:
            self._was_blocking = os.get_blocking(self.fd)
        except OSError as exc:
            raise AudioUnavailableError(
                f"stdin cannot be read ({exc.strerror}); {PIPE_HINT}"
            ) from exc
        self._opened = True
        if not _pollable(self.fd):
            return  # a file or /dev/null: its reads never block, plain os.read is fine
        pipe = os.fdopen(self.fd, "rb", buffering=0, closefd=False)
        reader = asyncio.StreamReader()
        try:
            transport, _ = await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), pipe
            )
        except ValueError:
            pipe.close()  # not a pipe after all: read it plainly
            return
        self._reader, self._transport = reader, transport

    async def _read(self, size: int) -> bytes:
        data = await self._read_some(size)
        if data:
            self._got_audio = True
        elif not self._got_audio:
            raise AudioUnavailableError(f"stdin gave no audio: it is at end of file; {PIPE_HINT}")
        return data

    async def _read_some(self, size: int) -> bytes:
        if not self._opened:
            await self._open()
        if self._reader is None:
            return os.read(self.fd, size)
        try:
            return await self._reader.readexactly(size)
        except asyncio.IncompleteReadError as exc:
            return exc.partial

    async def _next_frame(self) -> bytes | None:
        if not self._resampler.passthrough:
            return await super()._next_frame()
        data = await self._read(FRAME_BYTES)
        while 0 < len(data) < FRAME_BYTES and self._reader is None:
            more = os.read(self.fd, FRAME_BYTES - len(data))
            if not more:
                break
            data += more
        if len(data) == FRAME_BYTES:
            return data
        data = data[: len(data) - len(data) % SAMPLE_WIDTH]
        return data.ljust(FRAME_BYTES, b"\x00") if data else None

    async def _fill(self) -> None:
        data = await self._read(self._chunk_bytes)
        data = data[: len(data) - len(data) % SAMPLE_WIDTH]
        if not data:
            self._finish()
            return
        self._push(np.frombuffer(data, dtype=np.int16))

    async def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._opened:
            # connect_read_pipe made the fd non-blocking; the shell after us shares it.
            with contextlib.suppress(OSError):
                os.set_blocking(self.fd, self._was_blocking)
