"""The microphone audio the server holds uncommitted, kept so a new session can be given it.

When a session drops or expires while the user speaks, the words already streamed die with it:
the server had them in its input buffer, not yet committed to an item. The link keeps a copy of
that buffer (since the last commit or clear, bounded) and streams it to the replacement session
before any new audio, so the utterance ends there and is answered, instead of being lost.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

#: 15 s of the API's 24 kHz PCM16: more than an utterance; the oldest goes first.
MAX_BYTES: Final = 15 * 24_000 * 2


class PendingAudio:
    """A bounded copy of the server's uncommitted input audio, and a gate for new audio."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._chunks: deque[bytes] = deque()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._live = asyncio.Event()
        self._live.set()

    def add(self, pcm: bytes) -> None:
        """Audio sent (or meant) for the server's input buffer."""
        self._chunks.append(pcm)
        self._bytes += len(pcm)
        while self._bytes > self._max_bytes:
            self._bytes -= len(self._chunks.popleft())

    def committed(self) -> None:
        """The server committed (or cleared) its buffer: nothing is pending any more."""
        self._chunks.clear()
        self._bytes = 0

    def held(self) -> list[bytes]:
        """What is pending, oldest first."""
        return list(self._chunks)

    @property
    def held_ms(self) -> float:
        """How much audio is pending."""
        return self._bytes / 48.0

    def hold(self) -> None:
        """A replacement session is being made: new audio waits (the held goes first)."""
        self._live.clear()

    def release(self) -> None:
        """The replacement has the held audio (or there is none): new audio flows again."""
        self._live.set()

    async def flowing(self) -> None:
        """Return once new audio may go to the session."""
        await self._live.wait()
