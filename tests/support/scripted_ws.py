"""A real websocket server on loopback that plays scripted frames: the edge cases of a client.

Frames queued with `push` are sent in order; a `Close` closes with that code, and code 1006
drops the TCP connection without a close frame. What the client sends is recorded in `sent`,
and `on_send` may react to it (e.g. answer session.update).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.http11 import Request, Response


class ScriptedServer:
    """One scripted peer at a time; `url` is its `ws://127.0.0.1:PORT/v1/realtime`."""

    def __init__(self, on_send: Callable[[ScriptedServer, dict[str, Any]], None] | None = None):
        self.incoming: asyncio.Queue[str | Close] = asyncio.Queue()
        self.sent: list[str] = []
        self.on_send = on_send
        self.request: Request | None = None
        self.closed_with: tuple[int, str] | None = None
        #: Answer the upgrade with this HTTP status and body instead of accepting it.
        self.reject: tuple[int, bytes] | None = None
        #: Never finish the handshake (a hung upstream).
        self.stall = False
        self._server: Server | None = None
        self._changed = asyncio.Event()
        self._release = asyncio.Event()

    @property
    def url(self) -> str:
        """Where the client connects."""
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/realtime"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._process)

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def push(self, *frames: str | Close) -> None:
        """Queue frames for the client."""
        for frame in frames:
            self.incoming.put_nowait(frame)

    def sent_types(self) -> list[str]:
        """Types of the client's events, in order."""
        return [json.loads(t)["type"] for t in self.sent]

    async def wait_sent(self, count: int, timeout: float = 5.0) -> list[str]:  # noqa: ASYNC109
        """The client's events once at least `count` arrived."""
        await self._wait(lambda: len(self.sent) >= count, timeout)
        return self.sent

    async def wait_closed(self, timeout: float = 5.0) -> tuple[int, str]:  # noqa: ASYNC109
        """The code and reason the client closed with."""
        await self._wait(lambda: self.closed_with is not None, timeout)
        assert self.closed_with is not None
        return self.closed_with

    async def _wait(self, condition: Callable[[], bool], within: float) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def _process(self, connection: ServerConnection, request: Request) -> Response | None:
        self.request = request
        if self.stall:
            await self._release.wait()
        if self.reject is not None:
            status, body = self.reject
            headers = Headers([("Content-Type", "application/json")])
            return Response(status, "Forbidden" if status == 403 else "Error", headers, body)
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        player = asyncio.create_task(self._play(ws))
        try:
            async for text in ws:
                self.sent.append(str(text))
                self._changed.set()
                if self.on_send is not None:
                    self.on_send(self, json.loads(text))
        except ConnectionClosed:
            pass
        finally:
            rcvd = ws.protocol.close_rcvd
            if rcvd is not None:
                self.closed_with = (rcvd.code, rcvd.reason)
            self._changed.set()
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player

    async def _play(self, ws: ServerConnection) -> None:
        while True:
            frame = await self.incoming.get()
            if isinstance(frame, Close):
                if frame.code == 1006:
                    ws.transport.abort()  # no close frame: the client sees 1006
                else:
                    await ws.close(frame.code, frame.reason)
                return
            await ws.send(frame)
