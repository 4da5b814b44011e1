"""A microphone stand-in: frames arrive at their own pace whether or not anyone reads them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Self

from edge_voice.audio.pcm import SILENCE_FRAME


class LiveMic:
    """Produces one frame every `frame_s` (what it was told to say, else silence) into a small
    buffer; a frame that finds the buffer full is lost, as with a sound card's input overflow.

    Unlike a WAV source, a late reader does not slow it down: it loses audio (`overflowed`).
    Run `produce()` as a task; iterate the mic as the service's source; `finish()` ends it.
    """

    def __init__(self, *, frame_s: float = 0.04, buffer_frames: int = 10) -> None:
        self.frame_s = frame_s
        self._buffer: asyncio.Queue[bytes | None] = asyncio.Queue(buffer_frames)
        self._script: deque[bytes] = deque()
        self._finished = False
        self.said = asyncio.Event()
        """Set when everything given to `say()` has been produced."""
        self.produced = 0
        self.delivered = 0
        self.overflowed = 0

    def say(self, frames: Iterable[bytes]) -> None:
        """Speak these frames next (after what is still to be said)."""
        self._script.extend(frames)
        self.said.clear()

    def finish(self) -> None:
        """Stop after what is still to be said; iteration then ends."""
        self._finished = True

    async def produce(self) -> None:
        """Emit frames on a fixed schedule until `finish()` and the script is said."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not (self._finished and not self._script):
            frame = self._script.popleft() if self._script else SILENCE_FRAME
            if not self._script:
                self.said.set()
            self.produced += 1
            try:
                self._buffer.put_nowait(frame)
            except asyncio.QueueFull:
                self.overflowed += 1
            due += self.frame_s
            await asyncio.sleep(max(0.0, due - loop.time()))  # the sound card's clock
        await self._buffer.put(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        frame = await self._buffer.get()
        if frame is None:
            raise StopAsyncIteration
        self.delivered += 1
        return frame
