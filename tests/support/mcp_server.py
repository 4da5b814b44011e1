"""A real MCP server (the SDK's MCPServer, formerly FastMCP) on loopback, served by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class FakeHome:
    """What the tools did, and a switch to make one of them hang."""

    lights: dict[str, bool] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: MCPServer | None = None
    #: The Authorization header of every HTTP request the server got (None: without one).
    authorizations: list[str | None] = field(default_factory=list)
    #: Every HTTP request's headers (lower-case names).
    headers: list[dict[str, str]] = field(default_factory=list)


#: The smallest valid PNG header and a little data: what the camera "sees".
SNAPSHOT_PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def build_server(home: FakeHome, *, camera: bool = False) -> MCPServer:
    """A small home: turn lights on, fail, hang, and add a tool at runtime (list_changed);
    with `camera`, a `snapshot` tool that returns an image."""
    mcp = MCPServer("fake-home")
    home.server = mcp

    if camera:

        @mcp.tool(description="A snapshot of the door camera.")
        def snapshot() -> Image:
            return Image(data=SNAPSHOT_PNG, format="png")

    @mcp.tool(description="Turn a light on or off.")
    def set_light(room: str, on: bool) -> str:
        home.lights[room] = on
        return f"{room} light is {'on' if on else 'off'}"

    @mcp.tool(description="Always fails.")
    def broken() -> str:
        raise ToolError("the thermostat is unreachable")

    @mcp.tool(description="Never answers in time.")
    async def slow() -> str:
        await home.release.wait()
        return "finally"

    @mcp.tool(description="Adds the tool get_temperature and says the list changed.")
    async def install(ctx: Context) -> str:  # type: ignore[type-arg]
        mcp.add_tool(lambda: "21 °C", name="get_temperature", description="The temperature.")
        await ctx.session.send_tool_list_changed()
        return "installed"

    return mcp


def listening_socket(port: int = 0) -> socket.socket:
    """A loopback socket already listening (port 0: a free one), so clients can connect at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    return sock


@dataclass
class RunningMcp:
    """A served MCP server: its URL, the fake home, and how to stop it."""

    url: str
    home: FakeHome
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Take the server away (as if the HA host went down)."""
        self.server.should_exit = True
        self.server.force_exit = True
        self.home.release.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def recording_headers(app: ASGIApp, home: FakeHome) -> ASGIApp:
    """`app`, noting each HTTP request's Authorization header in `home.authorizations`."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            home.headers.append(headers)
            home.authorizations.append(headers.get("authorization"))
        await app(scope, receive, send)

    return wrapped


async def start_mcp(
    transport: str = "streamable_http", port: int | None = None, *, camera: bool = False
) -> RunningMcp:
    """Serve the fake home on a free loopback port; returns when it accepts connections."""
    home = FakeHome()
    mcp = build_server(home, camera=camera)
    if transport == "sse":
        app, path = mcp.sse_app(), "/sse"
    else:
        app, path = mcp.streamable_http_app(), "/mcp"
    sock = listening_socket(port or 0)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(recording_headers(app, home), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    # The socket listens already: connections wait in its backlog until uvicorn accepts them.
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    return RunningMcp(f"http://127.0.0.1:{port}{path}", home, server, task)


@contextlib.asynccontextmanager
async def mcp_server(
    transport: str = "streamable_http", *, camera: bool = False
) -> AsyncIterator[RunningMcp]:
    """A running fake-home MCP server for the duration of the block."""
    running = await start_mcp(transport, camera=camera)
    try:
        yield running
    finally:
        await running.stop()


class ToolWatch:
    """Follows a bridge's tool list (its on_change) so a test can wait for a state of it."""

    def __init__(self) -> None:
        self.tools: dict[str, Any] = {}
        self.changes = 0
        self._changed = asyncio.Condition()

    def __call__(self, tools: dict[str, Any]) -> None:
        self.tools = tools
        self.changes += 1
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, check: Callable[[dict[str, Any]], bool]) -> None:
        """Wait until `check(tools)` holds (10 s at most)."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: check(self.tools))
