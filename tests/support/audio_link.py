"""A stand-in for the realtime session on the uplink's side: records audio, can hold it back."""

from __future__ import annotations

import asyncio


class RecordingLink:
    """Takes microphone audio like a session does; `flowing` cleared, it blocks like a stall."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.blocked = asyncio.Event()
        """Set when a sender waits for `flowing`."""
        self._changed = asyncio.Condition()

    async def append_audio(self, pcm: bytes) -> None:
        """Accept one chunk once audio flows."""
        if not self.flowing.is_set():
            self.blocked.set()
        await self.flowing.wait()
        async with self._changed:
            self.received.append(pcm)
            self._changed.notify_all()

    async def until_received(self, count: int, within: float = 5.0) -> None:
        """Wait until `count` chunks have arrived."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.received) >= count)
