"""A raw websocket client for tests against the simulator: send events, await expected ones."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from edge_voice.sim.audio_synth import chunks

EventFilter = Callable[[dict[str, Any]], bool]


class SimClient:
    """Every server event is kept in `events`, in arrival order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._unread = 0

    @classmethod
    async def connect(
        cls,
        url: str,
        model: str | None = "gpt-realtime",
        *,
        key: str | None = "sk-test-key-0000",
        beta: bool = False,
    ) -> SimClient:
        """Open a session as the real clients do (bearer key, optional beta header)."""
        headers: dict[str, str] = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if beta:
            headers["OpenAI-Beta"] = "realtime=v1"
        target = url if model is None else f"{url}?model={model}"
        ws = await connect(target, additional_headers=headers, proxy=None, max_size=None)
        return cls(ws)

    async def __aenter__(self) -> SimClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.ws.close()

    async def send(self, event: dict[str, Any]) -> None:
        """Send one client event as JSON."""
        await self.ws.send(json.dumps(event))

    async def send_audio(self, pcm: bytes, chunk_ms: int = 100) -> None:
        """Append PCM16 audio in chunks, as a microphone stream would."""
        for piece in chunks(pcm, chunk_ms):
            await self.send(
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(piece).decode()}
            )

    async def next(self, within: float = 5.0) -> dict[str, Any]:
        """The next event not yet returned by next()/wait_for()."""
        if self._unread < len(self.events):
            self._unread += 1
            return self.events[self._unread - 1]
        async with asyncio.timeout(within):
            raw = await self.ws.recv()
        event: dict[str, Any] = json.loads(raw)
        self.events.append(event)
        self._unread = len(self.events)
        return event

    async def wait_for(
        self, event_type: str, within: float = 5.0, where: EventFilter | None = None
    ) -> dict[str, Any]:
        """Skip ahead to the next event of `event_type` (matching `where`)."""
        async with asyncio.timeout(within):
            while True:
                event = await self.next(within)
                if event.get("type") == event_type and (where is None or where(event)):
                    return event

    async def collect_until(self, event_type: str, within: float = 5.0) -> list[dict[str, Any]]:
        """Events from now up to and including the next `event_type`."""
        start = self._unread
        await self.wait_for(event_type, within)
        return self.events[start : self._unread]

    async def wait_closed(self, within: float = 5.0) -> tuple[int | None, str | None]:
        """Read until the server closes; return (close code, reason)."""
        async with asyncio.timeout(within):
            try:
                while True:
                    await self.next(within)
            except ConnectionClosed:
                pass
        return self.ws.close_code, self.ws.close_reason

    def types(self) -> list[str]:
        """Types of all events received so far."""
        return [str(e.get("type")) for e in self.events]
