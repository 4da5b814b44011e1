"""One local MCP server: connect, list its tools, follow list_changed, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from mcp import types
from mcp.client.session import ClientSession, IncomingMessage
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from edge_voice.config.mcp_schema import McpServerConfig
from edge_voice.mcp.naming import McpUnavailable, read_token

log = logging.getLogger(__name__)

FIRST_RETRY_S = 1.0


class _SessionGone(Exception):
    """The server does not know the session (it restarted): the request was not run."""


class McpLink:
    """The connection to one server; `tools` is its current (allowed) tool list."""

    def __init__(
        self,
        server: McpServerConfig,
        on_tools: Callable[[], None],
        *,
        reconnect_max_s: float = 60.0,
    ) -> None:
        self.server = server
        self.tools: tuple[types.Tool, ...] = ()
        self._on_tools = on_tools
        self._max_s = reconnect_max_s
        self._session: ClientSession | None = None
        self._wake = asyncio.Event()
        self._opened = asyncio.Event()  # set each time a session is opened
        self._lost = False

    async def run(self) -> None:
        """Stay connected until cancelled: after a failure, retry with exponential backoff."""
        delay = FIRST_RETRY_S
        while True:
            try:
                await self._serve()
            except Exception as exc:  # whatever the transport raised: the service keeps running
                log.warning("MCP server %s: %s", self.server.name, _describe(exc))
            if self._session is not None or self.tools:
                delay = FIRST_RETRY_S  # it was up: start the backoff again
            self._session, self._lost = None, False
            self._set_tools(())
            await asyncio.sleep(delay)  # backoff before the next attempt, not a synchronisation
            delay = min(delay * 2, self._max_s)

    async def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Run one tool; McpUnavailable if the server is not there (the link then reconnects).

        A server that restarted since the session opened refuses it ("Session not found"):
        the request never ran, so it runs once in the new session (the caller's deadline
        bounds the wait for it).
        """
        session = self._session
        if session is None:
            raise McpUnavailable(f"the MCP server {self.server.name} is not connected")
        try:
            return await self._call(session, tool, arguments)
        except _SessionGone:
            pass
        try:
            return await self._call(await self._next_session(session), tool, arguments)
        except _SessionGone:
            raise McpUnavailable(f"the MCP server {self.server.name} lost the session") from None

    async def _call(
        self, session: ClientSession, tool: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        try:
            return await session.call_tool(tool, arguments)
        except Exception as exc:
            self._lost = True
            self._wake.set()
            if _session_gone(exc):
                raise _SessionGone from None
            reason = _describe(exc)
            raise McpUnavailable(f"the MCP server {self.server.name} failed: {reason}") from None

    async def _next_session(self, old: ClientSession) -> ClientSession:
        """The session `run()` opens after `old` was lost (the caller bounds the wait)."""
        while self._session is None or self._session is old:
            self._opened.clear()
            await self._opened.wait()
        return self._session

    async def _serve(self) -> None:
        async with (
            self._streams() as (read, write),
            ClientSession(read, write, message_handler=self._on_message) as session,
        ):
            await session.initialize()
            self._session = session
            self._opened.set()
            await self._refresh(session)
            log.info("MCP server %s: %d tools", self.server.name, len(self.tools))
            while not self._lost:
                await self._wake.wait()
                self._wake.clear()
                if not self._lost:
                    await self._refresh(session)

    @contextlib.asynccontextmanager
    async def _streams(self) -> AsyncIterator[tuple[Any, Any]]:
        token = read_token(self.server)  # a TokenError names the file or variable only
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        if self.server.transport == "sse":
            async with sse_client(self.server.url, headers=headers) as streams:
                yield streams[0], streams[1]
            return
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(self.server.url, http_client=http) as streams,
        ):
            yield streams[0], streams[1]

    async def _refresh(self, session: ClientSession) -> None:
        listed: list[types.Tool] = []
        params: types.PaginatedRequestParams | None = None
        while True:
            page = await session.list_tools(params=params)
            listed.extend(page.tools)
            if page.next_cursor is None:
                break
            params = types.PaginatedRequestParams(cursor=page.next_cursor)
        allowed = self.server.allowed_tools
        self._set_tools(tuple(t for t in listed if allowed is None or t.name in allowed))

    def _set_tools(self, tools: tuple[types.Tool, ...]) -> None:
        if tools != self.tools:
            self.tools = tools
            self._on_tools()

    async def _on_message(self, message: IncomingMessage) -> None:
        # Listing from inside the session's receive loop would wait on itself: run() does it.
        if isinstance(message, types.ToolListChangedNotification):
            self._wake.set()


def _session_gone(exc: BaseException) -> bool:
    """Whether the server refused the session itself (HTTP 404 for an unknown session id)."""
    # The SDK's client turns that 404 into a JSON-RPC INVALID_REQUEST: the server's own
    # "Session not found" body, or its stand-in "Session terminated".
    return (
        isinstance(exc, MCPError)
        and exc.code == types.INVALID_REQUEST
        and exc.error.message in ("Session not found", "Session terminated")
    )


def _describe(exc: BaseException) -> str:
    """A short reason: the innermost exception of a group (the transport's task groups nest)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
