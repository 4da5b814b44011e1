"""The simulator as OpenAI's cloud in front of an MCP server: list its tools, call one.

Each operation opens its own streamable-HTTP session with the official `mcp` SDK client and
sends what the real service sends: the tool entry's `headers`, and its `authorization` as a
bearer token. Neither is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

log = logging.getLogger(__name__)

#: How long the service gives a server to list its tools or answer a call.
LIST_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 30.0


class McpServerError(Exception):
    """The server could not be reached or broke the protocol; `error` is the item's error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


def request_headers(entry: Mapping[str, Any]) -> dict[str, str]:
    """The HTTP headers a tool entry asks for: its `headers`, and `authorization` as a bearer."""
    headers = {str(k): str(v) for k, v in (entry.get("headers") or {}).items()}
    token = entry.get("authorization")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@contextlib.asynccontextmanager
async def _session(entry: Mapping[str, Any], timeout_s: float) -> AsyncIterator[ClientSession]:
    async with (
        asyncio.timeout(timeout_s),
        create_mcp_http_client(headers=request_headers(entry)) as http,
        streamable_http_client(str(entry["server_url"]), http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        yield session


async def list_tools(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every tool the server lists, in the `mcp_list_tools` item's shape."""
    try:
        async with _session(entry, LIST_TIMEOUT_S) as session:
            listed: list[types.Tool] = []
            params: types.PaginatedRequestParams | None = None
            while True:
                page = await session.list_tools(params=params)
                listed.extend(page.tools)
                if page.next_cursor is None:
                    break
                params = types.PaginatedRequestParams(cursor=page.next_cursor)
    except Exception as exc:  # whatever the transport raised: the listing failed
        raise McpServerError(_transport_error(exc)) from None
    return [_tool_shape(tool) for tool in listed]


async def call_tool(entry: Mapping[str, Any], name: str, arguments: str) -> str:
    """The tool's text output; McpServerError with the item's error when it fails."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        args = None
    if not isinstance(args, dict):
        raise McpServerError({"type": "protocol_error", "code": -32602, "message": "bad arguments"})
    try:
        async with _session(entry, CALL_TIMEOUT_S) as session:
            result = await session.call_tool(name, args)
    except Exception as exc:
        raise McpServerError(_transport_error(exc)) from None
    text = "\n".join(p.text for p in result.content if isinstance(p, types.TextContent))
    if result.is_error:
        raise McpServerError({"type": "tool_execution_error", "message": text or "tool failed"})
    if not text and result.structured_content is not None:
        return json.dumps(result.structured_content)
    return text


def _tool_shape(tool: types.Tool) -> dict[str, Any]:
    shape: dict[str, Any] = {"name": tool.name, "input_schema": tool.input_schema or {}}
    if tool.description:
        shape["description"] = tool.description
    if tool.annotations is not None:
        shape["annotations"] = tool.annotations.model_dump(exclude_none=True)
    return shape


def _transport_error(exc: BaseException) -> dict[str, Any]:
    """The innermost exception of a group (the transports nest task groups), as an item error."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    code = getattr(getattr(exc, "error", None), "code", None)
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(code, int):
        return {"type": "protocol_error", "code": code, "message": message}
    return {"type": "http_error", "code": 424, "message": message}
